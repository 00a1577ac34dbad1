package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtrpcpb "vitess.io/vitess/go/vt/proto/vtrpc"

	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/vstream"
)

// vstreamSources chooses VStream source tablets with the picker over the registry's
// snapshots, passing the request's cells, cell preference and tablet order through, with the
// gateway's cell as the local cell.
type vstreamSources struct {
	reg    *discovery.Registry
	waiter *picker.Waiter
	cell   string
	maxLag time.Duration
	wait   time.Duration  // how long a pick waits for a tablet to become healthy
	fit    *sourceFitness // binlog settings of the tablets (vstream_fitness.go)
}

var (
	_ vstream.SourcePicker  = (*vstreamSources)(nil)
	_ vstream.HealthChecker = (*vstreamSources)(nil)
)

func (v *vstreamSources) PickSource(ctx context.Context, req vstream.SourceRequest) (vstream.Source, error) {
	opts := picker.Options{Cells: req.Cells, LocalCell: v.cell, Types: req.TabletTypes, MaxLag: v.maxLag}
	if req.InOrder {
		opts.TabletOrder = picker.InOrder
	}
	var err error
	if opts.CellPreference, err = picker.ParseCellPreference(req.CellPreference); err != nil {
		return vstream.Source{}, &vstream.Error{Code: vtrpcpb.Code_INVALID_ARGUMENT, Err: err}
	}
	for _, a := range req.Exclude {
		alias, err := picker.ParseAlias(a)
		if err != nil {
			return vstream.Source{}, &vstream.Error{Code: vtrpcpb.Code_INVALID_ARGUMENT, Err: err}
		}
		opts.Exclude = append(opts.Exclude, alias)
	}
	if v.fit != nil {
		opts.Unfit = v.fit.unfit(ctx, v.reg.Snapshot().Shard(req.Keyspace, req.Shard))
	}
	crit, err := picker.Compile(opts)
	if err != nil {
		return vstream.Source{}, &vstream.Error{Code: vtrpcpb.Code_INVALID_ARGUMENT, Err: err}
	}
	wait := v.wait
	if len(opts.Unfit) > 0 {
		wait = min(wait, 2*time.Second) // settings do not heal by waiting
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	info, err := v.waiter.Pick(ctx, req.Keyspace, req.Shard, crit, nil)
	if err != nil {
		if len(opts.Unfit) > 0 {
			return vstream.Source{}, &vstream.Error{Code: vtrpcpb.Code_FAILED_PRECONDITION, Err: fmt.Errorf(
				"vtdirect: no tablet of %s/%s fits as a VStream source (unfit: %s): %w (vtdirect picker explain --purpose vstream shows every tablet)",
				req.Keyspace, req.Shard, unfitAliases(opts.Unfit), err)}
		}
		return vstream.Source{}, fmt.Errorf("pick a VStream source for %s/%s: %w", req.Keyspace, req.Shard, err)
	}
	alias := picker.AliasOf(info.Tablet.GetAlias())
	t := v.reg.Snapshot().Tablet(alias)
	if t == nil {
		return vstream.Source{}, fmt.Errorf("pick a VStream source for %s/%s: tablet %s is gone", req.Keyspace, req.Shard, alias)
	}
	return vstream.Source{Alias: alias.String(), Cell: t.Cell, TabletType: t.Type, Addr: t.Server.Addr(), DBName: t.Server.DBName()}, nil
}

func (v *vstreamSources) Shards(_ context.Context, keyspace string) ([]string, error) {
	snap := v.reg.Snapshot()
	if !snap.HasKeyspace(keyspace) {
		return nil, &vstream.Error{Code: vtrpcpb.Code_NOT_FOUND, Err: fmt.Errorf("vtdirect: unknown keyspace %q; SHOW DATABASES lists the keyspaces", keyspace)}
	}
	var out []string
	for _, sh := range snap.Shards(keyspace) {
		out = append(out, sh.Name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("vtdirect: keyspace %s has no tablets yet", keyspace)
	}
	return out, nil
}

// CheckSource tells a stream to move when its source stopped serving, lags past the bound,
// or left the topology.
func (v *vstreamSources) CheckSource(_ context.Context, src vstream.Source) error {
	alias, err := picker.ParseAlias(src.Alias)
	if err != nil {
		return err
	}
	t := v.reg.Snapshot().Tablet(alias)
	switch {
	case t == nil:
		return fmt.Errorf("tablet %s left the topology", src.Alias)
	case !t.Health().Reachable:
		return fmt.Errorf("tablet %s is unreachable: %v", src.Alias, t.Health().Err)
	case !t.Health().Serving:
		return fmt.Errorf("tablet %s is not serving: %v", src.Alias, t.Health().Err)
	case t.Type != topodatapb.TabletType_PRIMARY && v.maxLag > 0 && t.Health().Lag > v.maxLag:
		return fmt.Errorf("tablet %s lags %v, more than %v", src.Alias, t.Health().Lag, v.maxLag)
	}
	return nil
}

// unfitAliases lists the unfit tablets in alias order (the picker's error says why).
func unfitAliases(m map[picker.Alias]string) string {
	aliases := make([]string, 0, len(m))
	for a := range m {
		aliases = append(aliases, a.String())
	}
	slices.Sort(aliases)
	return strings.Join(aliases, ", ")
}
