package failover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/topo"
)

// Reparenter runs recoveries: emergency and planned reparents, elections and fixes. The
// controller uses it for automatic recoveries, the gateway's HTTP API and `vtdirect reparent`
// for an operator's.
type Reparenter struct {
	cfg     Config
	ts      *topo.Server
	agent   Agent
	journal *Journal
	buffer  Buffer // nil: no buffer in this process
	log     *slog.Logger

	mu      sync.Mutex         // guards running
	running map[string]*runner // by "ks/shard"
}

// NewReparenter returns a Reparenter. buf may be nil (the CLI has no router to hold).
func NewReparenter(cfg Config, ts *topo.Server, agent Agent, buf Buffer) (*Reparenter, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Reparenter{cfg: cfg, ts: ts, agent: agent, journal: NewJournal(ts), buffer: buf, log: cfg.Logger,
		running: map[string]*runner{}}, nil
}

// Journal returns the journal the recoveries write.
func (r *Reparenter) Journal() *Journal { return r.journal }

// Running returns the recoveries running in this process.
func (r *Reparenter) Running() []*Recovery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Recovery
	for _, x := range r.running {
		out = append(out, x.snapshot())
	}
	return out
}

// begin registers a recovery of a shard; only one runs per shard in this process.
func (r *Reparenter) begin(keyspace, shard, kind, trigger string, out func(string)) (*runner, error) {
	key := shardKey(keyspace, shard)
	r.mu.Lock()
	defer r.mu.Unlock()
	if x, ok := r.running[key]; ok {
		return nil, fmt.Errorf("a %s recovery of %s is already running (%s)", x.rec.Kind, key, x.rec.ID)
	}
	now := r.cfg.Now()
	x := &runner{r: r, out: out, log: r.cfg.Logger, rec: &Recovery{
		ID: newRecoveryID(now, r.cfg.ID), Keyspace: keyspace, Shard: shard, Kind: kind, Trigger: trigger,
		Leader: r.cfg.ID, Started: now, Status: StatusRunning,
	}}
	r.running[key] = x
	return x, nil
}

func (r *Reparenter) end(x *runner) {
	r.mu.Lock()
	delete(r.running, shardKey(x.rec.Keyspace, x.rec.Shard))
	r.mu.Unlock()
}

// shardView is a shard as a recovery reads it under the shard lock.
type shardView struct {
	keyspace, shard string
	record          *topodatapb.Shard
	tablets         []*topodatapb.Tablet
	readings        map[string]*Reading // by short alias
	writers         []Writer
	rules           Rules
}

// view reads the shard's records, the keyspace's durability policy, the writers and a fresh
// reading of every tablet.
func (r *Reparenter) view(ctx context.Context, keyspace, shard string) (*shardView, error) {
	tctx, cancel := context.WithTimeout(ctx, topoTimeout)
	defer cancel()
	ks, err := r.ts.GetKeyspace(tctx, keyspace)
	if err != nil {
		return nil, err
	}
	pol, err := PolicyByName(ks.GetDurabilityPolicy())
	if err != nil {
		return nil, fmt.Errorf("keyspace %s: %w", keyspace, err)
	}
	rec, err := r.ts.GetShard(tctx, keyspace, shard)
	if err != nil {
		return nil, err
	}
	tablets, err := r.ts.GetTabletsByShard(tctx, keyspace, shard)
	if err != nil {
		return nil, err
	}
	writers, err := r.journal.Writers(tctx, keyspace, shard)
	if err != nil {
		return nil, err
	}
	v := &shardView{keyspace: keyspace, shard: shard, record: rec, tablets: tablets, writers: writers, rules: Rules{Policy: pol, Overrides: r.cfg.PromotionRules}}
	v.readings = r.readAll(ctx, tablets)
	return v, nil
}

// topoTimeout bounds the topo reads of one view.
const topoTimeout = 5 * time.Second

// readAll reads every tablet at once, each bounded by the probe timeout.
func (r *Reparenter) readAll(ctx context.Context, tablets []*topodatapb.Tablet) map[string]*Reading {
	out := make(map[string]*Reading, len(tablets))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range tablets {
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout)
			defer cancel()
			rd := r.agent.Read(rctx, t)
			mu.Lock()
			out[shortAlias(t.GetAlias())] = rd
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func (v *shardView) input(keyspace, shard string, netTimeout time.Duration) ShardInput {
	in := ShardInput{Keyspace: keyspace, Shard: shard, Record: v.record, Rules: v.rules, Writers: v.writers, NetTimeout: netTimeout}
	for _, t := range v.tablets {
		in.Tablets = append(in.Tablets, TabletInput{Tablet: t, Reading: v.readings[shortAlias(t.GetAlias())]})
	}
	return in
}

func (v *shardView) tablet(alias string) *topodatapb.Tablet {
	for _, t := range v.tablets {
		if shortAlias(t.GetAlias()) == alias {
			return t
		}
	}
	return nil
}

// primary is the tablet the shard record names, nil if none or not a tablet.
func (v *shardView) primary() *topodatapb.Tablet {
	if a := v.record.GetPrimaryAlias(); a != nil {
		return v.tablet(shortAlias(a))
	}
	return nil
}

// others are the tablets other than skip, in a stable order.
func (v *shardView) others(skip ...string) []*topodatapb.Tablet {
	var out []*topodatapb.Tablet
	for _, t := range v.tablets {
		if !slices.Contains(skip, shortAlias(t.GetAlias())) {
			out = append(out, t)
		}
	}
	return out
}

// recordWriter adds a primary to the shard's writers, best effort (the journal says so if
// it cannot).
func (r *Reparenter) recordWriter(ctx context.Context, keyspace, shard string, w Writer) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
	defer cancel()
	_, err := r.journal.AddWriter(wctx, keyspace, shard, w)
	return err
}

// recordWriters journals, after a promotion, where the old primary's term ended (ended, nil
// when unknown) and the new primary as a writer, and updates v.writers to match, for the
// errant checks of the steps that follow. A failure does not undo the promotion: the step
// says so in the journal, and the controller records the serving primary again on its next
// poll.
func (r *Reparenter) recordWriters(ctx context.Context, x *runner, v *shardView, ended *Writer, started Writer) {
	ws := []Writer{started}
	if ended != nil {
		ws = append([]Writer{*ended}, ws...)
	}
	for _, w := range ws {
		i := slices.IndexFunc(v.writers, func(o Writer) bool { return o.ServerID == w.ServerID })
		if i < 0 {
			v.writers = append(v.writers, w)
		} else {
			v.writers[i] = w
		}
	}
	_ = x.step(ctx, "record-writers", func(ctx context.Context) (string, error) {
		var errs []error
		var names []string
		for _, w := range ws {
			if err := r.recordWriter(ctx, v.keyspace, v.shard, w); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", w.Alias, err))
				continue
			}
			n := w.Alias + " (server " + strconv.FormatUint(uint64(w.ServerID), 10) + ")"
			if !w.TermEnd.IsZero() {
				n += " term ended at " + w.TermEnd.String()
			}
			names = append(names, n)
		}
		d := "recorded " + orNone(strings.Join(names, ", "))
		if len(errs) > 0 {
			return d, fmt.Errorf("the writers list could not be updated (the errant-transaction checks may misjudge these servers until it is): %w", errors.Join(errs...))
		}
		return d, nil
	})
}

// changeType sets a tablet's type in the topo, bounded.
func (r *Reparenter) changeType(ctx context.Context, t *topodatapb.Tablet, typ topodatapb.TabletType, term time.Time, tags map[string]string) error {
	tctx, cancel := context.WithTimeout(ctx, topoTimeout)
	defer cancel()
	_, err := r.ts.ChangeTabletType(tctx, t.GetAlias(), typ, term, tags)
	return err
}

// hooks runs the pre or post hooks of a recovery.
func (r *Reparenter) hooks(ctx context.Context, x *runner, phase string, cmds []string) error {
	if len(cmds) == 0 {
		return nil
	}
	return x.step(ctx, phase+"-hooks", func(ctx context.Context) (string, error) {
		return runHooks(ctx, cmds, r.cfg.HookTimeout, hookEnv(x.snapshot(), phase))
	})
}

// takeOver marks the shard's recoveries that were left running by another process as
// abandoned: holding the shard lock proves they are not running any more. It returns a note
// for the lock step's detail.
func (r *Reparenter) takeOver(ctx context.Context, x *runner) string {
	jctx, cancel := context.WithTimeout(ctx, topoTimeout)
	defer cancel()
	recs, err := r.journal.Recoveries(jctx, x.rec.Keyspace, x.rec.Shard)
	if err != nil {
		return ""
	}
	var taken []string
	for _, o := range recs {
		if o.ID == x.rec.ID || o.Status != StatusRunning {
			continue
		}
		last := "nothing"
		if n := len(o.Steps); n > 0 {
			last = o.Steps[n-1].Name + " (" + o.Steps[n-1].Status + ")"
		}
		o.Status, o.Ended, o.Phase = StatusAbandoned, r.cfg.Now(), ""
		o.Error = fmt.Sprintf("its process stopped after step %s; recovery %s took the shard over", last, x.rec.ID)
		if err := r.journal.Put(jctx, o); err == nil {
			taken = append(taken, o.ID)
		}
	}
	if len(taken) == 0 {
		return ""
	}
	x.set(func(rec *Recovery) { rec.RedoOf = strings.Join(taken, ",") })
	return "; took over abandoned recovery " + strings.Join(taken, ", ")
}
