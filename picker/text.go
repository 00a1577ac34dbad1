package picker

import (
	"strconv"
	"time"
)

// TextOptions is Options as the text that flags, URL parameters
// (/debug/picker), `vtdirect picker explain` and VStreamFlags carry, so
// that every entry point parses them the same way.
type TextOptions struct {
	Cells             string // comma list of cells and aliases
	LocalCell         string
	CellPreference    string // PreferLocalWithAlias (default), PreferLocal, OnlySpecified; any case
	TabletTypes       string // "REPLICA,RDONLY", "in_order:REPLICA,RDONLY"; "" = default
	TabletOrder       string // Any (default), InOrder; any case
	Exclude           string // comma list of aliases (zone1-100)
	MaxLag            string // a Go duration ("30s") or a number of seconds; "" = no bound
	IncludeNonServing bool
}

// Options parses the text into Options. Errors are *InvalidArgumentError.
// The result still needs Compile, which checks the combination.
func (t TextOptions) Options() (Options, error) {
	o := Options{
		Cells:             SplitCells(t.Cells),
		LocalCell:         t.LocalCell,
		TabletTypes:       t.TabletTypes,
		IncludeNonServing: t.IncludeNonServing,
	}
	var err error
	if o.CellPreference, err = ParseCellPreference(t.CellPreference); err != nil {
		return Options{}, err
	}
	if o.TabletOrder, err = ParseTabletOrder(t.TabletOrder); err != nil {
		return Options{}, err
	}
	for _, s := range SplitCells(t.Exclude) {
		a, err := ParseAlias(s)
		if err != nil {
			return Options{}, err
		}
		o.Exclude = append(o.Exclude, a)
	}
	if t.MaxLag != "" {
		if o.MaxLag, err = time.ParseDuration(t.MaxLag); err != nil {
			secs, serr := strconv.ParseFloat(t.MaxLag, 64)
			if serr != nil || secs < 0 {
				return Options{}, invalidArg("max lag", t.MaxLag, "want a duration such as 30s")
			}
			o.MaxLag = time.Duration(secs * float64(time.Second))
		}
	}
	return o, nil
}
