package router

// Picker settings per keyspace (the config file's keyspaces: max_replication_lag, cells,
// cell_preference) and the gateway-wide ones a reload replaces. The per-query cost without
// them is one atomic load; with them, one map lookup by keyspace.

import (
	"fmt"
	"sync/atomic"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/picker"
)

// PickerDefaults are the tablet-choice settings of the gateway (Cells, CellPreference,
// MaxLag) and of the keyspaces that have their own; Keyspaces[ks] fields left zero-valued
// are taken from the gateway's (a nil Cells too).
type PickerDefaults struct {
	Cells          []string
	CellPreference picker.CellPreference
	MaxLag         time.Duration
	Keyspaces      map[string]KeyspacePicker
}

// KeyspacePicker is one keyspace's own tablet-choice settings; nil fields: the gateway's.
type KeyspacePicker struct {
	Cells          []string
	HasCells       bool
	CellPreference *picker.CellPreference
	MaxLag         *time.Duration
}

// criteriaSet is compiled picker criteria: the gateway's per tablet type, and per keyspace.
type criteriaSet struct {
	global    map[topodatapb.TabletType]*picker.Criteria
	keyspaces map[string]map[topodatapb.TabletType]*picker.Criteria
}

// SetPickerDefaults replaces the tablet-choice settings from the next statement on.
func (e *Executor) SetPickerDefaults(d PickerDefaults) error {
	set := &criteriaSet{keyspaces: map[string]map[topodatapb.TabletType]*picker.Criteria{}}
	var err error
	if set.global, err = e.compileCriteria(d.Cells, d.CellPreference, d.MaxLag); err != nil {
		return err
	}
	for ks, k := range d.Keyspaces {
		cells, pref, lag := d.Cells, d.CellPreference, d.MaxLag
		if k.HasCells {
			cells = k.Cells
		}
		if k.CellPreference != nil {
			pref = *k.CellPreference
		}
		if k.MaxLag != nil {
			lag = *k.MaxLag
		}
		if set.keyspaces[ks], err = e.compileCriteria(cells, pref, lag); err != nil {
			return fmt.Errorf("keyspace %s: %w", ks, err)
		}
	}
	e.pickerSet.Store(set)
	return nil
}

// compileCriteria compiles the criteria of each tablet type a target may name.
func (e *Executor) compileCriteria(cells []string, pref picker.CellPreference, lag time.Duration) (map[topodatapb.TabletType]*picker.Criteria, error) {
	out := map[topodatapb.TabletType]*picker.Criteria{}
	for _, tt := range []topodatapb.TabletType{topodatapb.TabletType_PRIMARY, topodatapb.TabletType_REPLICA, topodatapb.TabletType_RDONLY} {
		c, err := picker.Compile(picker.Options{Cells: cells, LocalCell: e.cfg.Cell, CellPreference: pref, Types: []topodatapb.TabletType{tt}, MaxLag: lag})
		if err != nil {
			return nil, fmt.Errorf("router: tablet choice for %s: %w", tt, err)
		}
		out[tt] = c
	}
	return out, nil
}

// criteriaFor is the picker criteria for a keyspace's tablets of a type.
func (e *Executor) criteriaFor(keyspace string, tt topodatapb.TabletType) *picker.Criteria {
	set := e.pickerSet.Load()
	if set == nil {
		return e.criteria[tt]
	}
	if k := set.keyspaces[keyspace]; k != nil {
		return k[tt]
	}
	return set.global[tt]
}

// pickerSetHolder is embedded in Executor: the criteria SetPickerDefaults compiled (nil: the
// ones NewExecutor compiled from Config).
type pickerSetHolder struct{ pickerSet atomic.Pointer[criteriaSet] }
