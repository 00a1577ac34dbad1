package failover

// The controller: the thin driver around the analysis. Every gateway with failover on runs
// one; they campaign in the topo's election and only the leader acts, the others poll and
// analyze too (so /debug/failover shows the same everywhere and a new leader starts warm).
//
// Goroutines, all owned by the Controller (Close stops them and waits):
//   - campaign: wins and holds the leadership, campaigns again when it is lost;
//   - poll: every PollInterval reads the topology and every tablet, analyzes, and (leader
//     only) starts recoveries;
//   - watchJournal: follows the journal, so this gateway's buffer holds a shard while another
//     gateway (or `vtdirect reparent`) reparents it;
//   - one per running recovery.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/topo"
)

// Controller is the failover controller of one gateway.
type Controller struct {
	cfg   Config
	ts    *topo.Server
	agent Agent
	rep   *Reparenter
	buf   Buffer // may be nil

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup // campaign, poll, watchJournal and the recoveries
	closeOnce sync.Once

	mu       sync.Mutex // guards the fields below
	leader   bool
	leaderID string
	shards   map[string]*shardState // by "ks/shard"
	journal  map[string]*Recovery   // recent recoveries seen in the journal, by id
	remote   map[string]string      // shards another process reparents now: "ks/shard" -> recovery id
	topoErr  string
	lastPoll time.Time
}

// shardState is the controller's view of one shard.
type shardState struct {
	keyspace, shard string
	record          *topodatapb.Shard
	tablets         []*topodatapb.Tablet
	readings        map[string]*Reading
	writers         []Writer
	rules           Rules
	analysis        Analysis
	// lastPrimaryOK is when the primary was last read fine (for the detection time).
	lastPrimaryOK time.Time
	// detectedAt is when the current shard-wide problem was first seen.
	detectedAt   time.Time
	detectedCode Code
	running      bool                 // a recovery of the shard runs in this process
	blocked      string               // why a wanted recovery does not run
	fixBackoff   map[string]time.Time // "code@tablet" -> no retry before
	fixFailures  map[string]int
	// recoverAfter and recoverFailures hold back a shard-wide recovery that did not succeed
	// (refused, aborted, failed): retried with an exponential backoff, not every poll.
	recoverAfter    time.Time
	recoverFailures int
}

// New returns a controller; Start starts it. buf may be nil (no buffering).
func New(cfg Config, ts *topo.Server, agent Agent, buf Buffer) (*Controller, error) {
	rep, err := NewReparenter(cfg, ts, agent, buf)
	if err != nil {
		return nil, err
	}
	return &Controller{cfg: rep.cfg, ts: ts, agent: agent, rep: rep, buf: buf,
		shards: map[string]*shardState{}, journal: map[string]*Recovery{}, remote: map[string]string{}}, nil
}

// Reparenter returns the controller's Reparenter (for operators' reparents through the
// gateway).
func (c *Controller) Reparenter() *Reparenter { return c.rep }

// Start starts the goroutines.
func (c *Controller) Start(ctx context.Context) {
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Add(3)
	go c.campaign()
	go c.poll()
	go c.watchJournal()
}

// Close stops the controller: it resigns the leadership and waits for its goroutines,
// running recoveries included.
func (c *Controller) Close() {
	c.closeOnce.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		c.wg.Wait()
		c.agent.Close()
	})
}

// IsLeader reports whether this gateway leads failover now.
func (c *Controller) IsLeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

func (c *Controller) setLeader(b bool) {
	c.mu.Lock()
	c.leader = b
	if b {
		c.leaderID = c.cfg.ID
	}
	c.mu.Unlock()
	if o := c.cfg.Observer; o != nil {
		o.Leader(b)
	}
}

// campaign holds the leadership while it can.
func (c *Controller) campaign() {
	defer c.wg.Done()
	backoff := 100 * time.Millisecond
	for c.ctx.Err() == nil {
		lease, err := c.ts.Campaign(c.ctx, ElectionName, c.cfg.ID, c.cfg.LeaseTTL)
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			c.cfg.Logger.Warn("failover: cannot campaign for the leadership; retrying", "err", err, "retry_in", backoff)
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		c.cfg.Logger.Info("failover: this gateway leads failover", "id", c.cfg.ID)
		c.setLeader(true)
		select {
		case <-c.ctx.Done():
			c.setLeader(false)
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = lease.Release(rctx)
			cancel()
			return
		case <-lease.Lost():
			c.cfg.Logger.Warn("failover: leadership lost; campaigning again")
			c.setLeader(false)
		}
	}
}

// poll reads and analyzes every PollInterval.
func (c *Controller) poll() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	for {
		c.pollOnce(c.ctx)
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollOnce is one round: topology, readings, analysis, actions.
func (c *Controller) pollOnce(ctx context.Context) {
	views, err := c.readTopology(ctx)
	c.mu.Lock()
	c.lastPoll = c.cfg.Now()
	if err != nil {
		c.topoErr = err.Error()
	} else {
		c.topoErr = ""
	}
	c.mu.Unlock()
	if err != nil && len(views) == 0 {
		c.cfg.Logger.Warn("failover: cannot read the topology; analyzing the last one seen", "err", err)
		views = c.lastViews()
	}
	var all []*topodatapb.Tablet
	for _, v := range views {
		all = append(all, v.tablets...)
	}
	readings := c.rep.readAll(ctx, all)
	if ctx.Err() != nil {
		return
	}
	c.releaseStale()
	leader := c.IsLeader()
	for _, v := range views {
		v.readings = readings
		c.analyze(ctx, v, leader && err == nil)
	}
}

// readTopology reads every shard of the keyspaces failover handles.
func (c *Controller) readTopology(ctx context.Context) ([]*shardView, error) {
	ctx, cancel := context.WithTimeout(ctx, max(c.cfg.PollInterval, time.Second))
	defer cancel()
	kss, err := c.ts.ListKeyspaces(ctx)
	if err != nil {
		return nil, err
	}
	var views []*shardView
	var errs []error
	for _, ks := range kss {
		if len(c.cfg.Keyspaces) > 0 && !slices.Contains(c.cfg.Keyspaces, ks) {
			continue
		}
		krec, err := c.ts.GetKeyspace(ctx, ks)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pol, err := PolicyByName(krec.GetDurabilityPolicy())
		if err != nil {
			errs = append(errs, fmt.Errorf("keyspace %s: %w", ks, err))
			continue
		}
		shards, err := c.ts.ListShards(ctx, ks)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, sh := range shards {
			rec, err := c.ts.GetShard(ctx, ks, sh)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			tablets, err := c.ts.GetTabletsByShard(ctx, ks, sh)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			writers, err := c.rep.journal.Writers(ctx, ks, sh)
			if err != nil {
				errs = append(errs, err)
			}
			views = append(views, &shardView{keyspace: ks, shard: sh, record: rec, tablets: tablets, writers: writers,
				rules: Rules{Policy: pol, Overrides: c.cfg.PromotionRules}})
		}
	}
	return views, errors.Join(errs...)
}

// lastViews rebuilds views from the last topology seen (the topo is down).
func (c *Controller) lastViews() []*shardView {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*shardView
	for _, s := range c.shards {
		out = append(out, &shardView{keyspace: s.keyspace, shard: s.shard, record: s.record, tablets: s.tablets, writers: s.writers, rules: s.rules})
	}
	return out
}

// analyze runs the analysis of one shard and, when act, starts what it asks for.
func (c *Controller) analyze(ctx context.Context, v *shardView, act bool) {
	key := shardKey(v.keyspace, v.shard)
	a := Analyze(v.input(v.keyspace, v.shard, c.cfg.NetTimeout))
	now := c.cfg.Now()
	c.mu.Lock()
	s := c.shards[key]
	if s == nil {
		s = &shardState{keyspace: v.keyspace, shard: v.shard, fixBackoff: map[string]time.Time{}, fixFailures: map[string]int{}}
		c.shards[key] = s
	}
	s.record, s.tablets, s.writers, s.rules, s.analysis = v.record, v.tablets, v.writers, v.rules, a
	s.readings = map[string]*Reading{}
	for _, t := range v.tablets {
		s.readings[tabletName(t)] = v.readings[tabletName(t)]
	}
	primary := v.primary()
	if primary != nil && v.readings[tabletName(primary)].Reachable() {
		s.lastPrimaryOK = v.readings[tabletName(primary)].Time
	}
	rp, wantRecovery := a.Recovery()
	switch {
	case !wantRecovery:
		s.detectedAt, s.detectedCode = time.Time{}, ""
	case s.detectedCode != rp.Code:
		s.detectedAt, s.detectedCode = now, rp.Code
	}
	running := s.running
	s.blocked = ""
	c.mu.Unlock()
	// A recovery that another process runs holds the shard lock: ours waits for the lock,
	// then re-reads the shard and stops if nothing is left to do (or takes over a dead one).
	if !act || running {
		return
	}
	if primary != nil && !slices.ContainsFunc(v.writers, func(w Writer) bool { return w.Alias == tabletName(primary) }) {
		if rd := v.readings[tabletName(primary)]; rd.Reachable() && !rd.ReadOnly {
			_ = c.rep.recordWriter(ctx, v.keyspace, v.shard, Writer{ServerID: rd.ServerID, Alias: tabletName(primary)})
		}
	}
	if a.Blocked != "" {
		if wantRecovery {
			c.setBlocked(key, "not acted on: "+a.Blocked)
		}
		return
	}
	if wantRecovery {
		if wait := c.recoverWait(key); wait != "" {
			c.setBlocked(key, wait)
			return
		}
		if why := c.blockedByRecent(ctx, v.keyspace, v.shard); why != "" {
			c.setBlocked(key, why)
			return
		}
		c.startRecovery(v, a, rp, s.lastPrimaryOK)
		return
	}
	c.startFixes(v, a, s)
}

// recoverWait says why a shard-wide recovery waits after one that did not succeed.
func (c *Controller) recoverWait(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.shards[key]
	if s == nil || !c.cfg.Now().Before(s.recoverAfter) {
		return ""
	}
	return fmt.Sprintf("the last recovery did not succeed (%d in a row); next attempt at %s", s.recoverFailures, s.recoverAfter.Format(time.RFC3339))
}

// recovered notes a recovery's outcome for the backoff.
func (c *Controller) recovered(key string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.shards[key]
	if s == nil {
		return
	}
	if ok {
		s.recoverFailures, s.recoverAfter = 0, time.Time{}
		return
	}
	s.recoverFailures++
	s.recoverAfter = c.cfg.Now().Add(min(time.Duration(1<<min(s.recoverFailures, 6))*c.cfg.PollInterval, time.Minute))
}

func (c *Controller) setBlocked(key, why string) {
	c.mu.Lock()
	if s := c.shards[key]; s != nil {
		s.blocked = why
	}
	c.mu.Unlock()
}

// blockedByRecent says why an automatic recovery must wait: the shard had one within the
// block period that no operator acknowledged (orchestrator's anti-flapping).
func (c *Controller) blockedByRecent(ctx context.Context, keyspace, shard string) string {
	if c.cfg.BlockPeriod <= 0 {
		return ""
	}
	jctx, cancel := context.WithTimeout(ctx, topoTimeout)
	defer cancel()
	recs, err := c.rep.journal.Recoveries(jctx, keyspace, shard)
	if err != nil {
		return "the journal cannot be read (" + err.Error() + "): no automatic recovery without it"
	}
	now := c.cfg.Now()
	for _, r := range recs {
		if r.Kind == KindFix || r.Kind == KindPlanned || r.Trigger == "operator" || r.Status == StatusAborted || !promoted(r) {
			continue // only a recovery that changed the primary is one to flap from
		}
		end := r.Ended
		if end.IsZero() {
			end = r.Started
		}
		if now.Sub(end) >= c.cfg.BlockPeriod {
			return ""
		}
		if r.Acknowledged {
			return ""
		}
		return fmt.Sprintf("blocked: recovery %s (%s) ended %v ago, within the block period of %v; acknowledge it with `vtdirect failover ack %s/%s`",
			r.ID, r.Status, now.Sub(end).Round(time.Second), c.cfg.BlockPeriod, keyspace, shard)
	}
	return ""
}

// promoted reports whether a recovery made a tablet the primary (its promote step ran). One
// that failed before (a replica that could not be stopped, the topo unreachable while it
// read) changed nothing: it is retried with the controller's backoff, not blocked for the
// block period.
func promoted(r *Recovery) bool {
	for _, st := range r.Steps {
		if st.Name == "promote" && st.Status == "ok" {
			return true
		}
	}
	return false
}

// startRecovery runs a shard-wide recovery in its own goroutine.
func (c *Controller) startRecovery(v *shardView, a Analysis, p Problem, lastOK time.Time) {
	key := shardKey(v.keyspace, v.shard)
	c.mu.Lock()
	s := c.shards[key]
	s.running = true
	c.mu.Unlock()
	if o := c.cfg.Observer; o != nil && !lastOK.IsZero() {
		o.Detected(v.keyspace, v.shard, p.Code, c.cfg.Now().Sub(lastOK))
	}
	expected := ""
	if p.Code == DeadPrimary || p.Code == DeadPrimaryAndSomeReplicas {
		expected = a.Primary
	}
	c.wg.Go(func() {
		defer c.done(key)
		c.cfg.Logger.Warn("failover: recovering shard", "shard", key, "analysis", p.Code, "detail", p.Detail)
		rec, err := c.rep.Emergency(c.ctx, v.keyspace, v.shard, EmergencyOptions{Trigger: string(p.Code), Detail: p.Detail, Expected: expected, Confirm: true})
		if err != nil {
			c.cfg.Logger.Warn("failover: recovery did not complete", "shard", key, "err", err)
		}
		c.recovered(key, rec != nil && rec.Status == StatusSuccess)
		c.refreshJournal(v.keyspace, v.shard)
		if rec != nil {
			// Its outcome as this process knows it: the journal may not have taken its last
			// write (the topo down), and the status must still show how it ended.
			c.mu.Lock()
			c.journal[rec.ID] = rec
			c.mu.Unlock()
		}
	})
}

// startFixes runs the fixes whose backoff allows, in one goroutine.
func (c *Controller) startFixes(v *shardView, a Analysis, s *shardState) {
	now := c.cfg.Now()
	var todo []Problem
	c.mu.Lock()
	for _, p := range a.Fixes() {
		if now.Before(s.fixBackoff[string(p.Code)+"@"+p.Tablet]) {
			continue
		}
		todo = append(todo, p)
	}
	if len(todo) == 0 {
		c.mu.Unlock()
		return
	}
	s.running = true
	c.mu.Unlock()
	key := shardKey(v.keyspace, v.shard)
	c.wg.Go(func() {
		defer c.done(key)
		rec, err := c.rep.Fix(c.ctx, v.keyspace, v.shard, todo)
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range todo {
			k := string(p.Code) + "@" + p.Tablet
			if failed(rec, p) || (err != nil && rec == nil) {
				s.fixFailures[k]++
				s.fixBackoff[k] = c.cfg.Now().Add(min(time.Duration(1<<min(s.fixFailures[k], 6))*c.cfg.PollInterval, time.Minute))
			} else {
				delete(s.fixFailures, k)
				delete(s.fixBackoff, k)
			}
		}
		if err != nil {
			c.cfg.Logger.Warn("failover: fix did not complete", "shard", key, "err", err)
		}
		if rec != nil {
			c.journal[rec.ID] = rec
		}
	})
}

// failed reports whether the fix step for p failed in rec.
func failed(rec *Recovery, p Problem) bool {
	if rec == nil {
		return false
	}
	name := string(p.Code) + " " + orDash(p.Tablet)
	for _, st := range rec.Steps {
		if st.Name == name && st.Status == "failed" {
			return true
		}
	}
	return false
}

func (c *Controller) done(key string) {
	c.mu.Lock()
	if s := c.shards[key]; s != nil {
		s.running = false
	}
	c.mu.Unlock()
}

// refreshJournal re-reads a shard's journal into the status.
func (c *Controller) refreshJournal(keyspace, shard string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), topoTimeout)
	defer cancel()
	recs, err := c.rep.journal.Recoveries(ctx, keyspace, shard)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		c.journal[r.ID] = r
	}
	c.pruneJournalLocked()
}

func (c *Controller) pruneJournalLocked() {
	if len(c.journal) <= 200 {
		return
	}
	ids := make([]string, 0, len(c.journal))
	for id := range c.journal {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids[:len(ids)-200] {
		delete(c.journal, id)
	}
}

// watchJournal follows the journal: recoveries of other processes buffer this gateway's
// traffic for their shard while they are in their buffer phase.
func (c *Controller) watchJournal() {
	defer c.wg.Done()
	conn := c.ts.GlobalConn()
	backoff := 100 * time.Millisecond
	for c.ctx.Err() == nil {
		initial, changes, err := conn.WatchRecursive(c.ctx, JournalDir)
		if err != nil && !errors.Is(err, topo.ErrNoNode) {
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		for _, wd := range initial {
			c.journalChange(wd)
		}
		if changes == nil {
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		for wd := range changes {
			if wd.Err != nil {
				break
			}
			c.journalChange(wd)
		}
	}
}

// journalChange applies one journal record seen in the topo.
func (c *Controller) journalChange(wd *topo.WatchData) {
	rel := wd.Path
	if i := len(JournalDir) + 1; len(rel) > i && rel[:i] == JournalDir+"/" {
		rel = rel[i:]
	}
	ks, shard, id, ok := recoveryKeyFromPath(rel)
	if !ok {
		return
	}
	key := shardKey(ks, shard)
	var rec *Recovery
	if !wd.Deleted {
		rec = &Recovery{}
		if err := json.Unmarshal(wd.Contents, rec); err != nil {
			return
		}
	}
	c.mu.Lock()
	if rec != nil {
		c.journal[id] = rec
		c.pruneJournalLocked()
	}
	mine := rec != nil && rec.Leader == c.cfg.ID
	holding := c.remote[key] == id
	wantHold := rec != nil && !mine && rec.Status == StatusRunning && rec.Phase == PhaseBuffer && !c.stale(rec)
	switch {
	case wantHold && !holding:
		c.remote[key] = id
	case !wantHold && holding:
		delete(c.remote, key)
	}
	c.mu.Unlock()
	if c.buf == nil {
		return
	}
	switch {
	case wantHold && !holding:
		c.buf.StartReparent(ks, shard, rec.OldPrimary)
	case !wantHold && holding:
		primary := ""
		if rec != nil {
			primary = servingAfter(rec)
		}
		c.buf.EndReparent(ks, shard, primary)
	}
}

// stale reports a running recovery of another process that stopped journaling for longer
// than its shard lock can outlive its owner: its process is gone.
func (c *Controller) stale(r *Recovery) bool {
	return r.Status == StatusRunning && c.cfg.Now().Sub(lastActivity(r)) > 2*c.cfg.LeaseTTL+c.cfg.WaitReplicasTimeout
}

func (c *Controller) staleLocked(id string) bool {
	r := c.journal[id]
	return r == nil || c.stale(r)
}

// releaseStale stops holding shards whose remote recovery went stale.
func (c *Controller) releaseStale() {
	var release [][3]string
	c.mu.Lock()
	for key, id := range c.remote {
		if c.staleLocked(id) {
			delete(c.remote, key)
			ks, shard, _ := ParseKeyspaceShard(key)
			old := ""
			if r := c.journal[id]; r != nil {
				old = r.OldPrimary
			}
			release = append(release, [3]string{ks, shard, old})
		}
	}
	c.mu.Unlock()
	if c.buf != nil {
		for _, r := range release {
			c.buf.EndReparent(r[0], r[1], r[2])
		}
	}
}

// lastActivity is the latest time a recovery journaled.
func lastActivity(r *Recovery) time.Time {
	t := r.Started
	for _, s := range r.Steps {
		t = maxTime(t, maxTime(s.Started, s.Ended))
	}
	return t
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
