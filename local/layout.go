package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"

	"github.com/vtdirect/vtdirect/topo"
)

// TabletSpec is one tablet of a local cluster: a MariaDB server holding the layout's shard.
type TabletSpec struct {
	Cell string
	UID  uint32 // also the MariaDB server_id
	Type topodatapb.TabletType
	// MySQLPort is the MariaDB port on 127.0.0.1; 0 picks a free port (tests).
	MySQLPort int
}

// Alias is the tablet alias in Vitess's "<cell>-<uid>" form.
func (s TabletSpec) Alias() string { return s.Cell + "-" + strconv.FormatUint(uint64(s.UID), 10) }

// TopoAlias is the alias as a topo record.
func (s TabletSpec) TopoAlias() *topodatapb.TabletAlias {
	return &topodatapb.TabletAlias{Cell: s.Cell, Uid: s.UID}
}

// Layout is the shape of a local cluster: its cells, cell aliases, one unsharded keyspace and
// its tablets, and where the topo keeps them.
type Layout struct {
	Cells        []string
	CellsAliases map[string][]string
	Keyspace     string
	Shard        string
	// DBName is the backend database of the keyspace (the tablets' db_name_override).
	DBName string
	// Durability is the keyspace's durability policy (none, semi_sync, cross_cell), written
	// into its Keyspace record as Vitess does; "" is none.
	Durability string
	// GlobalRoot is the topo's global root; each cell's root is CellRootPrefix + cell.
	GlobalRoot     string
	CellRootPrefix string
	Tablets        []TabletSpec
}

// Demo tablet ports are DemoPortBase + uid, so the addresses are easy to remember and compare.
const DemoPortBase = 17000

// DemoLayout is the cluster of `vtdirect local up`: cells zone1 and zone2 in alias region1,
// keyspace commerce with shard 0 served by a PRIMARY zone1-100, a REPLICA zone1-101, a REPLICA
// zone2-200 and an RDONLY zone2-201, on 127.0.0.1:17100, 17101, 17200 and 17201.
func DemoLayout() Layout {
	l := Layout{
		Cells:          []string{"zone1", "zone2"},
		CellsAliases:   map[string][]string{"region1": {"zone1", "zone2"}},
		Keyspace:       "commerce",
		Shard:          "0",
		DBName:         "commerce",
		Durability:     "semi_sync",
		GlobalRoot:     "/vitess/global",
		CellRootPrefix: "/vitess/",
		Tablets: []TabletSpec{
			{Cell: "zone1", UID: 100, Type: topodatapb.TabletType_PRIMARY},
			{Cell: "zone1", UID: 101, Type: topodatapb.TabletType_REPLICA},
			{Cell: "zone2", UID: 200, Type: topodatapb.TabletType_REPLICA},
			{Cell: "zone2", UID: 201, Type: topodatapb.TabletType_RDONLY},
		},
	}
	for i := range l.Tablets {
		l.Tablets[i].MySQLPort = DemoPortBase + int(l.Tablets[i].UID)
	}
	return l
}

// Validate checks that the layout has exactly one primary, known cells and unique uids.
func (l Layout) Validate() error {
	if l.Keyspace == "" || l.Shard == "" || l.DBName == "" || l.GlobalRoot == "" || l.CellRootPrefix == "" {
		return errors.New("layout: keyspace, shard, db name and topo roots are required")
	}
	primaries := 0
	seen := map[uint32]bool{}
	for _, t := range l.Tablets {
		if !slices.Contains(l.Cells, t.Cell) {
			return fmt.Errorf("layout: tablet %s is in unknown cell %q", t.Alias(), t.Cell)
		}
		if t.UID == 0 || seen[t.UID] {
			return fmt.Errorf("layout: tablet uid %d is zero or not unique (it is the server_id)", t.UID)
		}
		seen[t.UID] = true
		if t.Type == topodatapb.TabletType_PRIMARY {
			primaries++
		}
	}
	if primaries != 1 {
		return fmt.Errorf("layout: %d primary tablets, want exactly 1", primaries)
	}
	return nil
}

// Primary returns the primary's spec (Validate guarantees there is one).
func (l Layout) Primary() TabletSpec {
	for _, t := range l.Tablets {
		if t.Type == topodatapb.TabletType_PRIMARY {
			return t
		}
	}
	return TabletSpec{}
}

// Replicas returns the specs of every non-primary tablet, in layout order.
func (l Layout) Replicas() []TabletSpec {
	var out []TabletSpec
	for _, t := range l.Tablets {
		if t.Type != topodatapb.TabletType_PRIMARY {
			out = append(out, t)
		}
	}
	return out
}

// CellRoot is the topo root of a cell.
func (l Layout) CellRoot(cell string) string { return l.CellRootPrefix + cell }

// TabletRecord is the topo record of a tablet whose MariaDB listens on 127.0.0.1:mysqlPort.
// vtdirect has no vttablet, so the port map holds only "mysql".
func (l Layout) TabletRecord(spec TabletSpec, mysqlPort int) (*topodatapb.Tablet, error) {
	_, kr, err := topo.ShardKeyRange(l.Shard)
	if err != nil {
		return nil, err
	}
	return &topodatapb.Tablet{
		Alias:          spec.TopoAlias(),
		Hostname:       "127.0.0.1",
		PortMap:        map[string]int32{"mysql": int32(mysqlPort)},
		Keyspace:       l.Keyspace,
		Shard:          l.Shard,
		KeyRange:       kr,
		Type:           spec.Type,
		DbNameOverride: l.DBName,
		MysqlHostname:  "127.0.0.1",
		MysqlPort:      int32(mysqlPort),
	}, nil
}

// WriteTopo writes the layout into the topo: a CellInfo per cell (all on topoAddr, the server
// ts is connected to), the cell aliases, the keyspace, the shard, the given tablet records and
// the shard's primary. It is idempotent: existing records are kept; tablet records are
// overwritten with the given ones while the shard has no primary, and once it has one (failover
// may have moved it) only missing tablets are added, as replicas.
func WriteTopo(ctx context.Context, ts *topo.Server, l Layout, topoAddr string, tablets []*topodatapb.Tablet) error {
	for _, cell := range l.Cells {
		ci := &topodatapb.CellInfo{ServerAddress: topoAddr, Root: l.CellRoot(cell)}
		if err := ignoreExists(ts.CreateCellInfo(ctx, cell, ci)); err != nil {
			return fmt.Errorf("write topo: %w", err)
		}
	}
	for _, alias := range slices.Sorted(maps.Keys(l.CellsAliases)) {
		ca := &topodatapb.CellsAlias{Cells: l.CellsAliases[alias]}
		if err := ignoreExists(ts.CreateCellsAlias(ctx, alias, ca)); err != nil {
			return fmt.Errorf("write topo: %w", err)
		}
	}
	if err := ignoreExists(ts.CreateKeyspace(ctx, l.Keyspace, &topodatapb.Keyspace{DurabilityPolicy: l.Durability})); err != nil {
		return fmt.Errorf("write topo: %w", err)
	}
	if err := ignoreExists(ts.CreateShard(ctx, l.Keyspace, l.Shard)); err != nil {
		return fmt.Errorf("write topo: %w", err)
	}
	si, err := ts.GetShard(ctx, l.Keyspace, l.Shard)
	if err != nil {
		return fmt.Errorf("write topo: %w", err)
	}
	var primary *topodatapb.TabletAlias
	term := time.Now()
	for _, rec := range tablets {
		if si.PrimaryAlias == nil && rec.Type == topodatapb.TabletType_PRIMARY {
			// The primary's record carries its term, equal to the shard record's (Vitess).
			rec = proto.Clone(rec).(*topodatapb.Tablet)
			rec.PrimaryTermStartTime = &vttimepb.Time{Seconds: term.Unix(), Nanoseconds: int32(term.Nanosecond())}
		}
		if si.PrimaryAlias != nil {
			// An initialised shard: failover may have changed the tablets' types since; a
			// tablet already recorded keeps its record.
			if _, err := ts.GetTablet(ctx, rec.Alias); err == nil {
				continue
			}
			rec = proto.Clone(rec).(*topodatapb.Tablet)
			if rec.Type == topodatapb.TabletType_PRIMARY {
				rec.Type = topodatapb.TabletType_REPLICA
			}
		}
		if err := PutTablet(ctx, ts, rec); err != nil {
			return fmt.Errorf("write topo: %w", err)
		}
		if rec.Type == topodatapb.TabletType_PRIMARY {
			primary = rec.Alias
		}
	}
	if primary == nil {
		return nil
	}
	if proto.Equal(si.PrimaryAlias, primary) {
		return nil
	}
	if err := ts.SetShardPrimary(ctx, l.Keyspace, l.Shard, primary, term); err != nil {
		return fmt.Errorf("write topo: %w", err)
	}
	return nil
}

// PutTablet creates a tablet record, or overwrites the existing one.
func PutTablet(ctx context.Context, ts *topo.Server, rec *topodatapb.Tablet) error {
	err := ts.CreateTablet(ctx, rec)
	if !errors.Is(err, topo.ErrNodeExists) {
		return err
	}
	_, err = ts.UpdateTabletFields(ctx, rec.Alias, func(t *topodatapb.Tablet) error {
		proto.Reset(t)
		proto.Merge(t, rec)
		return nil
	})
	return err
}

func ignoreExists(err error) error {
	if errors.Is(err, topo.ErrNodeExists) {
		return nil
	}
	return err
}
