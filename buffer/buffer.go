package buffer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/discovery"
)

// Defaults: vtgate's (--buffer-window 10s, --buffer-size 1000, --buffer-max-failover-duration 20s).
const (
	DefaultWindow              = 10 * time.Second
	DefaultSize                = 1000
	DefaultMaxFailoverDuration = 20 * time.Second
)

// Config configures the buffer; cmd/vtdirect fills it from --buffer-* flags.
type Config struct {
	// Window is how long one request may wait for a reparent to end.
	Window time.Duration
	// Size bounds the requests waiting at once, over all shards.
	Size int
	// MaxFailoverDuration: a reparent (or an outage) that lasts longer stops being buffered;
	// requests then go to the primary and fail as they would without the buffer.
	MaxFailoverDuration time.Duration
	Logger              *slog.Logger
	// Now and Dial are the clock and the TCP reachability check (tests replace them).
	Now  func() time.Time
	Dial func(ctx context.Context, addr string) error
}

func (c *Config) validate() error {
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.Size <= 0 {
		c.Size = DefaultSize
	}
	if c.MaxFailoverDuration <= 0 {
		c.MaxFailoverDuration = DefaultMaxFailoverDuration
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Dial == nil {
		c.Dial = func(ctx context.Context, addr string) error {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				conn.Close()
			}
			return err
		}
	}
	if c.MaxFailoverDuration < c.Window {
		return errors.New("buffer: --buffer-max-failover-duration must be at least --buffer-window")
	}
	return nil
}

// Source is what the buffer follows: the registry's snapshots (FromRegistry).
type Source interface {
	// View returns the latest snapshot.
	View() View
	// Changed returns a channel closed when a newer snapshot is published.
	Changed() <-chan struct{}
}

// View is one snapshot of the shards' primaries.
type View interface {
	// Shards lists every keyspace/shard with tablets.
	Shards() [][2]string
	// Primary returns the shard's primary, if it has one.
	Primary(keyspace, shard string) (PrimaryState, bool)
}

// PrimaryState is a shard's primary as a snapshot shows it.
type PrimaryState struct {
	Alias string // short form, "zone1-100"
	// Serving: the last health probe says it takes writes, or it was not probed yet.
	Serving   bool
	LastProbe time.Time
	// OpenTransactions counts the transactions and reserved connections open on it.
	OpenTransactions int
}

// FromRegistry follows a discovery.Registry.
func FromRegistry(r *discovery.Registry) Source { return registrySource{r} }

type registrySource struct{ r *discovery.Registry }

func (s registrySource) View() View               { return snapView{s.r.Snapshot()} }
func (s registrySource) Changed() <-chan struct{} { return s.r.Changed() }

type snapView struct{ s *discovery.Snapshot }

func (v snapView) Shards() [][2]string {
	var out [][2]string
	for _, ks := range v.s.Keyspaces {
		for _, sh := range v.s.Shards(ks) {
			out = append(out, [2]string{ks, sh.Name})
		}
	}
	return out
}

func (v snapView) Primary(keyspace, shard string) (PrimaryState, bool) {
	sh := v.s.Shard(keyspace, shard)
	if sh == nil || sh.Primary == nil {
		return PrimaryState{}, false
	}
	h := sh.Primary.Health()
	return PrimaryState{Alias: shortAlias(sh.Primary.Alias), Serving: h.LastProbe.IsZero() || h.Serving, LastProbe: h.LastProbe,
		OpenTransactions: sh.Primary.Server.Stats().Reserved.InUse}, true
}

// OpenTransactions counts the transactions and reserved connections open on a tablet of the
// shard, whatever its type now (a primary being demoted may already show as a replica).
func (s registrySource) OpenTransactions(keyspace, shard, alias string) int {
	sh := s.r.Snapshot().Shard(keyspace, shard)
	if sh == nil {
		return 0
	}
	for _, t := range sh.Tablets {
		if shortAlias(t.Alias) == alias || (alias == "" && t == sh.Primary) {
			return t.Server.Stats().Reserved.InUse
		}
	}
	return 0
}

// Buffer holds PRIMARY traffic of shards that are being reparented. It is safe for
// concurrent use.
type Buffer struct {
	cfg Config
	src Source

	mu     sync.Mutex        // guards shards and queued
	shards map[string]*shard // by "ks/shard"
	queued int               // requests waiting, all shards

	stats counters

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the snapshot follower
}

// shard is one shard's buffering state, guarded by Buffer.mu.
type shard struct {
	keyspace, name string

	// explicit counts reparents that asked to hold the shard (this gateway's failover, and
	// other gateways' through the journal); expect is the primary that serves after them.
	explicit   int
	oldPrimary string
	expect     string
	// implicit: the primary stopped serving (health probe, a failed connection, a shard
	// record naming another tablet) while no reparent said so.
	implicit      bool
	recordPrimary string // the primary the shard record names, as last seen ("" unknown)
	// recordAhead: the record changed to name a tablet the registry did not serve then (an
	// external reparent that wrote the record first); false once the registry serves it, or
	// serves another new primary (the record this gateway saw is then the stale one: its
	// shard-record watch missed a change, e.g. its global topo is unreachable).
	recordAhead    bool
	failedPrimary  string    // the primary a request could not reach, and when
	failedAt       time.Time //
	servingPrimary string    // the serving primary of the last snapshot, "" if none

	episode  bool          // buffering now
	gaveUp   bool          // the episode outlasted MaxFailoverDuration: pass through until it ends
	start    time.Time     // when the episode began
	done     chan struct{} // closed when the episode ends
	lastEnd  time.Time     // when the last episode ended
	inflight int           // requests admitted and not released
	idle     chan struct{} // closed when inflight drops to 0 (made by Drain)
}

// New returns a buffer over the registry's snapshots; Start follows them.
func New(cfg Config, src Source) (*Buffer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Buffer{cfg: cfg, src: src, shards: map[string]*shard{}}, nil
}

// Start follows the registry until Close.
func (b *Buffer) Start(ctx context.Context) {
	b.ctx, b.cancel = context.WithCancel(ctx)
	b.wg.Add(1)
	go b.follow()
}

// Close stops following the registry; waiting requests are let go.
func (b *Buffer) Close() {
	if b.cancel != nil {
		b.cancel()
	}
	b.wg.Wait()
	b.mu.Lock()
	for _, s := range b.shards {
		b.endLocked(s)
	}
	b.mu.Unlock()
}

func key(keyspace, shard string) string { return keyspace + "/" + shard }

func (b *Buffer) shardLocked(keyspace, name string) *shard {
	k := key(keyspace, name)
	s := b.shards[k]
	if s == nil {
		s = &shard{keyspace: keyspace, name: name}
		b.shards[k] = s
	}
	return s
}

// buffering reports whether requests of the shard wait now.
func (s *shard) buffering() bool { return s.episode && !s.gaveUp }

// Wait is called by the router before a statement goes to a shard's PRIMARY on a connection
// the session does not hold yet. While a reparent of the shard runs it waits, until the
// reparent ends (then the statement goes to the new primary), the window passes or the buffer
// is full (error 1105), or ctx ends. release must be called when the statement is done.
func (b *Buffer) Wait(ctx context.Context, keyspace, name string) (release func(), err error) {
	b.mu.Lock()
	s := b.shardLocked(keyspace, name)
	if !s.buffering() {
		return b.admitLocked(s), nil
	}
	if b.queued >= b.cfg.Size {
		b.mu.Unlock()
		b.stats.add(keyspace, name, resultFull)
		return nil, errFull(keyspace, name, b.cfg.Size)
	}
	b.queued++
	b.stats.waiting.Add(1)
	b.stats.add(keyspace, name, resultBuffered)
	started := b.cfg.Now()
	deadline := time.NewTimer(b.cfg.Window)
	defer deadline.Stop()
	defer func() {
		b.mu.Lock()
		b.queued--
		b.mu.Unlock()
		b.stats.waiting.Add(-1)
		b.stats.observeWait(b.cfg.Now().Sub(started))
	}()
	for {
		done := s.done
		b.mu.Unlock()
		select {
		case <-done:
		case <-deadline.C:
			b.stats.add(keyspace, name, resultWindow)
			return nil, errWindow(keyspace, name, b.cfg.Window)
		case <-ctx.Done():
			b.stats.add(keyspace, name, resultCanceled)
			return nil, mysql.NewError(mysql.ER_QUERY_INTERRUPTED, "vtdirect: interrupted while waiting for the reparent of "+key(keyspace, name)+": "+ctx.Err().Error())
		}
		b.mu.Lock()
		if !s.buffering() {
			b.stats.add(keyspace, name, resultReleased)
			return b.admitLocked(s), nil
		}
	}
}

// admitLocked counts a request in and unlocks.
func (b *Buffer) admitLocked(s *shard) func() {
	s.inflight++
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			s.inflight--
			if s.inflight == 0 && s.idle != nil {
				close(s.idle)
				s.idle = nil
			}
			b.mu.Unlock()
		})
	}
}

// PrimaryFailed is called by the router when a connection to the shard's primary alias (at
// addr) could not be opened, or broke before any reply. If the primary does not even accept
// TCP connections, the shard is buffered until a primary serves again, and PrimaryFailed
// returns true: the caller may Wait and try again (only a statement that was not sent).
func (b *Buffer) PrimaryFailed(ctx context.Context, keyspace, name, alias, addr string) bool {
	dctx, cancel := context.WithTimeout(ctx, reachTimeout)
	err := b.cfg.Dial(dctx, addr)
	cancel()
	if err == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.shardLocked(keyspace, name)
	if s.servingPrimary != "" && s.servingPrimary != alias {
		return true // the snapshot moved on already: a retry goes to the new primary
	}
	s.failedPrimary, s.failedAt = alias, b.cfg.Now()
	b.cfg.Logger.Warn("buffer: the primary refuses connections; holding its traffic", "shard", key(keyspace, name), "tablet", alias, "err", err)
	b.evaluateLocked(s)
	return true
}

// reachTimeout bounds the TCP check of PrimaryFailed.
const reachTimeout = 300 * time.Millisecond

// Interrupted turns the error of a transaction (or reserved connection) that broke on a
// shard's primary into the retryable 1105 a client should see when a reparent of the shard
// runs or just ran; otherwise it returns nil.
func (b *Buffer) Interrupted(keyspace, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.shards[key(keyspace, name)]
	if s == nil {
		return nil
	}
	recent := !s.lastEnd.IsZero() && b.cfg.Now().Sub(s.lastEnd) < b.cfg.Window
	if !s.episode && !recent {
		return nil
	}
	b.stats.add(keyspace, name, resultInterrupted)
	return errInterrupted(keyspace, name)
}

// StartReparent is called when a reparent of the shard begins (this gateway's failover, or
// another's seen in the journal): the shard's new primary requests wait.
func (b *Buffer) StartReparent(keyspace, name, oldPrimary string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.shardLocked(keyspace, name)
	s.explicit++
	s.oldPrimary, s.expect = oldPrimary, ""
	if s.episode && s.gaveUp {
		// An outage the buffer gave up on, and now a reparent: hold again, for a fresh
		// --buffer-max-failover-duration.
		s.gaveUp, s.start = false, b.cfg.Now()
		b.cfg.Logger.Info("buffer: a reparent started; holding primary traffic again", "shard", key(keyspace, name))
	}
	b.evaluateLocked(s)
}

// EndReparent is called when the reparent ended; primary is the tablet that serves now ("":
// whichever). The shard's requests go on once the registry shows it serving.
func (b *Buffer) EndReparent(keyspace, name, primary string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.shardLocked(keyspace, name)
	if s.explicit > 0 {
		s.explicit--
	}
	s.expect = primary
	b.observeLocked(s, b.src.View())
}

// ShardRecord tells the buffer which primary the shard record names (an external reparent
// writes it): while the registry's primary differs, the shard is held.
func (b *Buffer) ShardRecord(keyspace, name, primary string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.shardLocked(keyspace, name)
	if primary != s.recordPrimary {
		s.recordAhead = primary != "" && primary != s.servingPrimary
	}
	s.recordPrimary = primary
	b.observeLocked(s, b.src.View())
}

// Drain waits until no request admitted on the shard runs and the old primary's tablet server
// has no transaction open, or ctx ends.
func (b *Buffer) Drain(ctx context.Context, keyspace, name string) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		b.mu.Lock()
		s := b.shardLocked(keyspace, name)
		busy, old := s.inflight > 0, s.oldPrimary
		var idle chan struct{}
		if busy {
			if s.idle == nil {
				s.idle = make(chan struct{})
			}
			idle = s.idle
		}
		b.mu.Unlock()
		if !busy && b.openOn(keyspace, name, old) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-idle: // nil when only transactions are left: wait for the tick
		case <-tick.C:
		}
	}
}

// openOn counts the transactions open on the shard's old primary (or its primary).
func (b *Buffer) openOn(keyspace, name, alias string) int {
	if o, ok := b.src.(interface {
		OpenTransactions(keyspace, shard, alias string) int
	}); ok {
		return o.OpenTransactions(keyspace, name, alias)
	}
	p, ok := b.src.View().Primary(keyspace, name)
	if !ok || (alias != "" && p.Alias != alias) {
		return 0
	}
	return p.OpenTransactions
}

// follow re-evaluates the shards on every snapshot.
func (b *Buffer) follow() {
	defer b.wg.Done()
	tick := time.NewTicker(time.Second) // for MaxFailoverDuration
	defer tick.Stop()
	for {
		changed := b.src.Changed()
		view := b.src.View()
		b.mu.Lock()
		b.observeAllLocked(view)
		b.mu.Unlock()
		select {
		case <-b.ctx.Done():
			return
		case <-changed:
		case <-tick.C:
		}
	}
}

// observeAllLocked looks at every shard of the snapshot (a primary that stops serving starts
// an episode) and at every shard with state.
func (b *Buffer) observeAllLocked(view View) {
	seen := map[string]bool{}
	for _, ks := range view.Shards() {
		seen[key(ks[0], ks[1])] = true
		b.observeLocked(b.shardLocked(ks[0], ks[1]), view)
	}
	for k, s := range b.shards {
		if !seen[k] {
			b.observeLocked(s, view)
		}
	}
}

// observeLocked updates a shard from a snapshot.
func (b *Buffer) observeLocked(s *shard, view View) {
	p, ok := view.Primary(s.keyspace, s.name)
	serving, alias := ok && p.Serving, p.Alias
	prev := s.servingPrimary
	s.servingPrimary = ""
	if serving {
		s.servingPrimary = alias
	}
	if s.failedPrimary != "" && serving && (alias != s.failedPrimary || p.LastProbe.After(s.failedAt)) {
		s.failedPrimary = "" // a newer probe (or another primary) says it serves
	}
	switch {
	case !serving && prev != "":
		s.implicit = true // the primary stopped serving
	case serving && s.recordAhead && s.recordPrimary != alias && (prev == "" || prev == alias):
		s.implicit = true // the shard record names another primary: a reparent is under way
	case serving:
		s.implicit = false
		s.recordAhead = false // the registry serves the record's primary, or another new one
	}
	if s.explicit == 0 && s.expect != "" && serving && alias == s.expect {
		s.expect = ""
	}
	b.evaluateLocked(s)
}

// evaluateLocked starts or ends the shard's episode.
func (b *Buffer) evaluateLocked(s *shard) {
	want := s.explicit > 0 || s.implicit || s.failedPrimary != "" || (s.expect != "" && s.servingPrimary != s.expect)
	now := b.cfg.Now()
	switch {
	case want && !s.episode:
		s.episode, s.gaveUp, s.start, s.done = true, false, now, make(chan struct{})
		b.stats.episodes.Add(1)
		b.cfg.Logger.Info("buffer: holding primary traffic", "shard", key(s.keyspace, s.name), "explicit", s.explicit > 0)
	case !want && s.episode:
		b.endLocked(s)
	case want && !s.gaveUp && now.Sub(s.start) > b.cfg.MaxFailoverDuration:
		s.gaveUp = true
		b.cfg.Logger.Warn("buffer: the reparent outlasted --buffer-max-failover-duration; requests go through", "shard", key(s.keyspace, s.name))
		close(s.done)
		s.done = make(chan struct{})
	}
}

func (b *Buffer) endLocked(s *shard) {
	if !s.episode {
		return
	}
	s.episode, s.gaveUp, s.lastEnd = false, false, b.cfg.Now()
	s.expect = ""
	close(s.done)
	b.cfg.Logger.Info("buffer: primary traffic flows again", "shard", key(s.keyspace, s.name), "held", s.lastEnd.Sub(s.start).Round(time.Millisecond))
}

// counters of the buffer, by shard and result; read by Stats.
type counters struct {
	mu       sync.Mutex                // guards byShard and waitSum
	byShard  map[string]map[string]int // "ks/shard" -> result -> count
	waitSum  time.Duration
	waitN    int64
	waiting  atomic.Int64
	episodes atomic.Uint64
}

// Results counted per shard.
const (
	resultBuffered    = "buffered"        // a request started waiting
	resultReleased    = "released"        // it went on to the (new) primary
	resultWindow      = "window_exceeded" // it waited longer than the window
	resultFull        = "buffer_full"     // the buffer was full
	resultCanceled    = "canceled"        // the client went or killed it
	resultInterrupted = "interrupted"     // a transaction got the reparent error
)

func (c *counters) add(keyspace, name, result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byShard == nil {
		c.byShard = map[string]map[string]int{}
	}
	k := key(keyspace, name)
	if c.byShard[k] == nil {
		c.byShard[k] = map[string]int{}
	}
	c.byShard[k][result]++
}

func (c *counters) observeWait(d time.Duration) {
	c.mu.Lock()
	c.waitSum += d
	c.waitN++
	c.mu.Unlock()
}

// Stats is a snapshot of the buffer's counters, for metrics.
type Stats struct {
	// Requests counts requests by "ks/shard" and result (buffered, released,
	// window_exceeded, buffer_full, canceled, interrupted).
	Requests map[string]map[string]int
	// Waiting is the requests waiting now; Episodes counts the times a shard was held.
	Waiting  int
	Episodes uint64
	// WaitSeconds and Waits sum the time requests waited.
	WaitSeconds float64
	Waits       int64
	// Buffering lists the shards held now.
	Buffering []string
}

// Stats returns the counters.
func (b *Buffer) Stats() Stats {
	b.stats.mu.Lock()
	st := Stats{Requests: map[string]map[string]int{}, WaitSeconds: b.stats.waitSum.Seconds(), Waits: b.stats.waitN}
	for k, m := range b.stats.byShard {
		c := map[string]int{}
		for r, n := range m {
			c[r] = n
		}
		st.Requests[k] = c
	}
	b.stats.mu.Unlock()
	st.Waiting, st.Episodes = int(b.stats.waiting.Load()), b.stats.episodes.Load()
	b.mu.Lock()
	for k, s := range b.shards {
		if s.buffering() {
			st.Buffering = append(st.Buffering, k)
		}
	}
	b.mu.Unlock()
	return st
}
