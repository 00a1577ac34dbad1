package vstream

import (
	"context"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Source is a tablet chosen to stream one shard from.
type Source struct {
	Alias      string // "zone1-101"
	Cell       string
	TabletType topodatapb.TabletType
	Addr       string // host:port of the tablet's MySQL
	DBName     string // the database holding the keyspace's tables
}

// SourceRequest asks for a source tablet for one shard.
type SourceRequest struct {
	Keyspace, Shard string
	// TabletTypes are acceptable types; with InOrder, the first type that has a healthy tablet
	// wins, else any of them may be chosen.
	TabletTypes []topodatapb.TabletType
	InOrder     bool
	// Cells restricts or orders the cells (Vitess's flags.cells); CellPreference is Vitess's
	// "PreferLocalWithAlias" (default) or "OnlySpecified".
	Cells          []string
	CellPreference string
	// Exclude lists tablet aliases that failed this stream.
	Exclude []string
}

// SourcePicker is what vstream needs from the tablet picker. The implementation waits a
// little for a tablet to become healthy and returns an error when none fits.
type SourcePicker interface {
	PickSource(ctx context.Context, req SourceRequest) (Source, error)
	// Shards lists the shards of keyspace (for a VGTID entry with shard "").
	Shards(ctx context.Context, keyspace string) ([]string, error)
}

// HealthChecker may also be implemented by the SourcePicker. A shard stream then asks it every
// Config.HealthInterval about its source and moves to another tablet when it answers an error
// (the tablet stopped serving, or lags past the bound the picker enforces).
type HealthChecker interface {
	CheckSource(ctx context.Context, src Source) error
}
