package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/topo"
)

// Topo is what the registry needs of the topo server.
type Topo interface {
	GetCellInfoNames(ctx context.Context) ([]string, error)
	GetKeyspaceNames(ctx context.Context) ([]string, error)
	GetCellsAliases(ctx context.Context) (map[string]*topodatapb.CellsAlias, error)
	WatchTablets(ctx context.Context, cell string) ([]*topodatapb.Tablet, <-chan topo.TabletChange, error)
}

var _ Topo = (*topo.Server)(nil)

// Config says which tablets the registry serves and how their tablet servers run.
type Config struct {
	Cells           []string // cells whose tablets are watched; empty: every cell in the topo
	Keyspaces       []string // keyspaces served; empty: all
	RefreshInterval time.Duration
	// TabletServer configures every tablet server, unless TabletConfig is set: then it gives
	// each tablet's (the config file's global, server, keyspace and tablet sections folded).
	TabletServer tabletserver.Config
	TabletConfig func(*topodatapb.Tablet) tabletserver.Config
}

// tabletConfig is the configuration of one tablet's server.
func (c *Config) tabletConfig(t *topodatapb.Tablet) tabletserver.Config {
	if c.TabletConfig != nil {
		return c.TabletConfig(t)
	}
	return c.TabletServer
}

func (c *Config) validate() error {
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = 5 * time.Second
	}
	return nil
}

// Registry keeps one tablet server per tablet of the watched cells and publishes snapshots.
// The tablet servers of one MySQL server (and user) share a backend: its connections and its
// health probe. A topology change rebuilds the snapshot; a health change updates it in place
// of the changed tablets only (picker.Snapshot.Update), which at 20,000 tablets costs
// microseconds instead of a rebuild's tens of milliseconds. Both are coalesced: a burst of
// changes (a thousand keyspaces added at once) makes a few rebuilds, not one per change.
type Registry struct {
	cfgMu sync.Mutex // guards cfg's TabletServer and TabletConfig (a reload replaces them)
	cfg   Config
	topo  Topo
	log   *slog.Logger

	backends *tabletserver.Backends
	snap     atomic.Pointer[Snapshot]

	mu            sync.Mutex        // guards the fields below
	tablets       map[string]*entry // by alias
	cellWatchers  map[string]context.CancelFunc
	topoKeyspaces []string
	aliases       map[string][]string
	topoErr       error
	gen           uint64
	changed       chan struct{} // closed when a newer snapshot is published
	topoDirty     bool          // the topology changed since the last rebuild

	hmu     sync.Mutex      // guards healthy
	healthy map[string]bool // aliases whose health changed since the last publish

	dirty  chan struct{} // capacity 1: changes coalesce into one rebuild or update
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the refresher, the rebuilder and the cell watchers
}

type entry struct {
	alias  string
	cell   string
	tablet *topodatapb.Tablet
	server *tabletserver.TabletServer
	view   *Tablet // what snapshots show, made once
}

// New makes a registry; Start starts it.
func New(cfg Config, t Topo, log *slog.Logger) (*Registry, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Registry{
		cfg:          cfg,
		topo:         t,
		log:          log,
		tablets:      map[string]*entry{},
		cellWatchers: map[string]context.CancelFunc{},
		aliases:      map[string][]string{},
		changed:      make(chan struct{}),
		dirty:        make(chan struct{}, 1),
		healthy:      map[string]bool{},
		backends:     tabletserver.NewBackends(log),
	}
	r.snap.Store(buildSnapshot(0, nil, nil, nil, nil, nil))
	return r, nil
}

// Backends are the backends the tablet servers share (one per MySQL server and user).
func (r *Registry) Backends() *tabletserver.Backends { return r.backends }

// Snapshot returns the latest snapshot; it never blocks.
func (r *Registry) Snapshot() *Snapshot { return r.snap.Load() }

// Current implements picker.Source: the picker's view of the latest snapshot, and a channel
// closed when a newer one is published (so a waiting pick retries at once).
func (r *Registry) Current() (*picker.Snapshot, <-chan struct{}) {
	changed := r.Changed() // before the load: a publish in between closes it
	return r.snap.Load().Picker, changed
}

var _ picker.Source = (*Registry)(nil)

// Changed returns a channel closed when a snapshot newer than the current one is published.
func (r *Registry) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// Start reads the topo once (so that the first snapshot is complete when the topo is up) and
// starts watching. It does not fail when the topo is down: the watchers retry.
func (r *Registry) Start(ctx context.Context) {
	r.ctx, r.cancel = context.WithCancel(ctx)
	r.refresh(r.ctx)
	r.wg.Add(2)
	go r.refreshLoop()
	go r.rebuildLoop()
}

// Close stops watching and closes every tablet server.
func (r *Registry) Close() {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	r.mu.Lock()
	servers := make([]*tabletserver.TabletServer, 0, len(r.tablets))
	for alias, e := range r.tablets {
		servers = append(servers, e.server)
		delete(r.tablets, alias)
	}
	r.publishLocked()
	r.mu.Unlock()
	for _, s := range servers {
		s.Close()
	}
}

// WaitForTablets waits until every alias is in a snapshot with a first health probe done.
func (r *Registry) WaitForTablets(ctx context.Context, aliases ...string) error {
	for {
		changed := r.Changed()
		snap := r.Snapshot()
		missing := ""
		for _, a := range aliases {
			found := false
			if t := snap.byName[a]; t != nil && !t.Health().LastProbe.IsZero() {
				found = true
			}
			if !found {
				missing = a
				break
			}
		}
		if missing == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for tablet %s: %w", missing, ctx.Err())
		case <-changed:
		}
	}
}

func (r *Registry) refreshLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			r.stopWatchers()
			return
		case <-t.C:
			r.refresh(r.ctx)
		}
	}
}

// refresh reads the cells, keyspaces and cell aliases, and starts or stops cell watchers.
func (r *Registry) refresh(ctx context.Context) {
	// A topo server that is down may not answer at all (an etcd client waits for it): bound
	// the reads so that the outage shows as TopoErr while the last topology keeps serving.
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RefreshInterval)
	defer cancel()
	cells := r.cfg.Cells
	var errs []error
	if len(cells) == 0 {
		all, err := r.topo.GetCellInfoNames(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("list cells: %w", err))
		} else {
			cells = all
		}
	}
	keyspaces, err := r.topo.GetKeyspaceNames(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("list keyspaces: %w", err))
	}
	aliases, err := r.topo.GetCellsAliases(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("list cell aliases: %w", err))
	}
	topoErr := errors.Join(errs...)
	if topoErr != nil {
		r.log.Warn("topo refresh failed; serving the last topology seen", "err", topoErr)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if topoErr == nil || len(cells) > 0 && len(r.cfg.Cells) == 0 {
		r.syncWatchersLocked(cells, topoErr == nil)
	} else if len(r.cfg.Cells) > 0 {
		r.syncWatchersLocked(cells, false)
	}
	changed := false
	if keyspaces != nil {
		ks := r.filterKeyspaces(keyspaces)
		sort.Strings(ks)
		changed = !slices.Equal(ks, r.topoKeyspaces)
		r.topoKeyspaces = ks
	}
	if aliases != nil {
		m := map[string][]string{}
		for name, a := range aliases {
			m[name] = append([]string(nil), a.GetCells()...)
		}
		changed = changed || !maps.EqualFunc(m, r.aliases, slices.Equal)
		r.aliases = m
	}
	if (topoErr == nil) != (r.topoErr == nil) || topoErr != nil && topoErr.Error() != r.topoErr.Error() {
		changed = true
	}
	r.topoErr = topoErr
	if changed || r.gen == 0 {
		r.publishLocked()
	}
}

// syncWatchersLocked starts a watcher per new cell; with stopGone it also stops the watchers of
// cells that left the topo and forgets their tablets.
func (r *Registry) syncWatchersLocked(cells []string, stopGone bool) {
	want := map[string]bool{}
	for _, c := range cells {
		want[c] = true
		if _, ok := r.cellWatchers[c]; ok || r.ctx == nil {
			continue
		}
		ctx, cancel := context.WithCancel(r.ctx)
		r.cellWatchers[c] = cancel
		r.wg.Add(1)
		go r.watchCell(ctx, c)
	}
	if !stopGone {
		return
	}
	for c, cancel := range r.cellWatchers {
		if !want[c] {
			cancel()
			delete(r.cellWatchers, c)
			r.replaceCellLocked(c, nil)
		}
	}
}

func (r *Registry) stopWatchers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c, cancel := range r.cellWatchers {
		cancel()
		delete(r.cellWatchers, c)
	}
}

// watchCell follows one cell's tablets; after a watch error it re-reads the cell and watches
// again, with a backoff, keeping the tablets it had meanwhile.
func (r *Registry) watchCell(ctx context.Context, cell string) {
	defer r.wg.Done()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		initial, changes, err := r.topo.WatchTablets(ctx, cell)
		if err != nil {
			r.setTopoErr(fmt.Errorf("watch tablets of cell %s: %w", cell, err))
			r.log.Warn("cannot watch the tablets of a cell; serving the last tablets seen", "cell", cell, "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		r.mu.Lock()
		r.replaceCellLocked(cell, initial)
		r.markTopoLocked()
		r.mu.Unlock()
		for ch := range changes {
			if ch.Err != nil {
				r.setTopoErr(fmt.Errorf("watch tablets of cell %s: %w", cell, ch.Err))
				break
			}
			r.mu.Lock()
			alias := topo.TabletAliasString(ch.Alias)
			if ch.Tablet == nil {
				r.removeLocked(alias)
			} else {
				r.upsertLocked(ch.Tablet)
			}
			r.markTopoLocked()
			r.mu.Unlock()
		}
	}
}

func (r *Registry) setTopoErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.topoErr = err
	r.publishLocked()
}

// replaceCellLocked makes the cell's tablets exactly the given ones.
func (r *Registry) replaceCellLocked(cell string, tablets []*topodatapb.Tablet) {
	seen := map[string]bool{}
	for _, t := range tablets {
		if t.GetAlias().GetCell() != cell {
			continue
		}
		seen[topo.TabletAliasString(t.GetAlias())] = true
		r.upsertLocked(t)
	}
	for alias, e := range r.tablets {
		if e.cell == cell && !seen[alias] {
			r.removeLocked(alias)
		}
	}
}

func (r *Registry) upsertLocked(t *topodatapb.Tablet) {
	if !r.servesKeyspace(t.GetKeyspace()) {
		return
	}
	alias := topo.TabletAliasString(t.GetAlias())
	if e, ok := r.tablets[alias]; ok {
		if proto.Equal(e.tablet, t) {
			return
		}
		r.log.Info("tablet changed; restarting its tablet server", "tablet", alias, "type", t.GetType())
		r.removeLocked(alias)
	} else {
		r.log.Info("tablet added", "tablet", alias, "keyspace", t.GetKeyspace(), "shard", t.GetShard(), "type", t.GetType(),
			"mysql", fmt.Sprintf("%s:%d", t.GetMysqlHostname(), t.GetMysqlPort()))
	}
	r.cfgMu.Lock()
	cfg := r.cfg.tabletConfig(t)
	r.cfgMu.Unlock()
	s := tabletserver.NewShared(r.backends, cfg, t, r.log.With("tablet", alias), func() { r.healthChanged(alias) })
	s.Open()
	r.tablets[alias] = &entry{alias: alias, cell: t.GetAlias().GetCell(), tablet: t, server: s, view: &Tablet{
		Alias: alias, Cell: t.GetAlias().GetCell(), Keyspace: t.GetKeyspace(), Shard: t.GetShard(),
		Type: t.GetType(), Record: t, Server: s,
	}}
}

func (r *Registry) removeLocked(alias string) {
	e, ok := r.tablets[alias]
	if !ok {
		return
	}
	delete(r.tablets, alias)
	r.log.Info("tablet removed", "tablet", alias)
	// Close waits for the probe goroutine and in-flight queries; do it off the lock so that
	// queries and probes never wait for the registry. Close() waits for these too.
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		e.server.Close()
	}()
}

func (r *Registry) servesKeyspace(ks string) bool {
	if len(r.cfg.Keyspaces) == 0 {
		return true
	}
	for _, k := range r.cfg.Keyspaces {
		if k == ks {
			return true
		}
	}
	return false
}

func (r *Registry) filterKeyspaces(ks []string) []string {
	out := make([]string, 0, len(ks))
	for _, k := range ks {
		if r.servesKeyspace(k) {
			out = append(out, k)
		}
	}
	return out
}

// healthChanged is called by tablet servers (from their backend's probe goroutine); the
// updates are coalesced by rebuildLoop.
func (r *Registry) healthChanged(alias string) {
	r.hmu.Lock()
	r.healthy[alias] = true
	r.hmu.Unlock()
	r.signal()
}

func (r *Registry) signal() {
	select {
	case r.dirty <- struct{}{}:
	default:
	}
}

// markTopoLocked records a topology change for the rebuild loop (before Start: at once).
func (r *Registry) markTopoLocked() {
	if r.ctx == nil {
		r.publishLocked()
		return
	}
	r.topoDirty = true
	r.signal()
}

func (r *Registry) rebuildLoop() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.dirty:
			r.mu.Lock()
			if r.topoDirty {
				r.publishLocked()
			} else if changed := r.takeHealthChanges(); len(changed) > 0 {
				r.publishHealthLocked(changed)
			}
			r.mu.Unlock()
		}
	}
}

// takeHealthChanges returns and forgets the aliases whose health changed.
func (r *Registry) takeHealthChanges() []string {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	out := make([]string, 0, len(r.healthy))
	for a := range r.healthy {
		out = append(out, a)
	}
	clear(r.healthy)
	return out
}

// publishHealthLocked publishes the latest snapshot with the health of the tablets named
// updated: the topology is shared, only the picker's changed shards are copied.
func (r *Registry) publishHealthLocked(aliases []string) {
	old := r.snap.Load()
	infos := make([]picker.TabletInfo, 0, len(aliases))
	for _, a := range aliases {
		e := r.tablets[a]
		if e == nil {
			continue // removed since
		}
		t := old.byName[a]
		if t == nil || t.Server != e.server {
			continue // not published yet: the pending rebuild will take it
		}
		infos = append(infos, pickerInfo(t))
	}
	if len(infos) == 0 {
		return
	}
	r.gen++
	next := *old
	next.Generation = r.gen
	next.Picker = old.Picker.Update(infos...)
	r.storeLocked(&next)
}

// storeLocked makes s the current snapshot and wakes the waiters.
func (r *Registry) storeLocked(s *Snapshot) {
	r.snap.Store(s)
	close(r.changed)
	r.changed = make(chan struct{})
}

// publishLocked rebuilds the snapshot from the topology (and every tablet's latest health).
func (r *Registry) publishLocked() {
	r.topoDirty = false
	r.takeHealthChanges() // the rebuild reads every tablet's health
	r.gen++
	tablets := make([]*Tablet, 0, len(r.tablets))
	for _, e := range r.tablets {
		tablets = append(tablets, e.view)
	}
	ks := append([]string(nil), r.topoKeyspaces...)
	sort.Strings(ks)
	cells := make([]string, 0, len(r.cellWatchers))
	for c := range r.cellWatchers {
		cells = append(cells, c)
	}
	sort.Strings(cells)
	r.storeLocked(buildSnapshot(r.gen, tablets, ks, cells, r.aliases, r.topoErr))
}

// Reconfigure applies a new configuration (a reload): tablets added from now on get it, and
// every tablet server and backend takes what can change while running (caps, timeouts, row
// limit, MaxConnections, passwords for new connections). It returns what it could not apply.
func (r *Registry) Reconfigure(base tabletserver.Config, perTablet func(*topodatapb.Tablet) tabletserver.Config) []string {
	r.cfgMu.Lock()
	r.cfg.TabletServer, r.cfg.TabletConfig = base, perTablet
	cfg := r.cfg
	r.cfgMu.Unlock()
	r.mu.Lock()
	entries := make([]*entry, 0, len(r.tablets))
	for _, e := range r.tablets {
		entries = append(entries, e)
	}
	r.mu.Unlock()
	sort.Slice(entries, func(i, j int) bool { return entries[i].alias < entries[j].alias })
	var not []string
	backendCfg := map[tabletserver.BackendKey]tabletserver.Config{}
	for _, e := range entries {
		c := cfg.tabletConfig(e.tablet)
		key := e.server.Backend().Key()
		if c.User != key.User {
			not = append(not, fmt.Sprintf("tablet %s: backend user %s → %s applies when its tablet server restarts (the tablet's record changes, or the gateway restarts)", e.alias, key.User, c.User))
			continue
		}
		e.server.Configure(c)
		if _, ok := backendCfg[key]; !ok {
			backendCfg[key] = c
		}
	}
	not = append(not, r.backends.Configure(func(k tabletserver.BackendKey) (tabletserver.Config, bool) {
		c, ok := backendCfg[k]
		return c, ok
	})...)
	return not
}
