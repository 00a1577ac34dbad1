package failover

// The journal: every recovery, with each step it took, kept in the topo so that any gateway
// (and a new leader) reads it. Records are JSON under the global root, beside Vitess's own
// records (Vitess's tools ignore the directory):
//
//	vtdirect/failover/<keyspace>/<shard>/recoveries/<id>   one Recovery
//	vtdirect/failover/<keyspace>/<shard>/writers           the servers that were primaries

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/vtdirect/vtdirect/topo"
)

// JournalDir is the journal's directory below the global root.
const JournalDir = "vtdirect/failover"

// Recovery kinds.
const (
	KindEmergency = "emergency" // emergency reparent (dead primary)
	KindElect     = "elect"     // election of a first primary
	KindPlanned   = "planned"   // planned reparent
	KindFix       = "fix"       // a local repair
)

// Recovery statuses.
const (
	StatusRunning = "running"
	StatusSuccess = "success"
	StatusFailed  = "failed"
	// StatusAborted: stopped at a safe point, the shard left as it was or in a state the
	// next analysis repairs (the journal's Error says where and why).
	StatusAborted = "aborted"
	// StatusAbandoned: its leader stopped mid-way; a new leader took the shard over.
	StatusAbandoned = "abandoned"
)

// Recovery is one recovery and its journal.
type Recovery struct {
	ID       string `json:"id"`
	Keyspace string `json:"keyspace"`
	Shard    string `json:"shard"`
	Kind     string `json:"kind"`
	// Trigger is the analysis code that started it, or "operator".
	Trigger    string    `json:"trigger"`
	Detail     string    `json:"detail,omitempty"`
	Leader     string    `json:"leader"`
	OldPrimary string    `json:"old_primary,omitempty"`
	NewPrimary string    `json:"new_primary,omitempty"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended,omitzero"`
	Status     string    `json:"status"`
	// Phase is where a running recovery is, for other gateways: "buffer" while their primary
	// traffic for the shard must wait.
	Phase string `json:"phase,omitempty"`
	Error string `json:"error,omitempty"`
	Steps []Step `json:"steps"`
	// RedoOf names the abandoned recovery this one took over.
	RedoOf       string    `json:"redo_of,omitempty"`
	Acknowledged bool      `json:"acknowledged,omitempty"`
	AckedBy      string    `json:"acked_by,omitempty"`
	AckedAt      time.Time `json:"acked_at,omitzero"`
	AckComment   string    `json:"ack_comment,omitempty"`
}

// PhaseBuffer is the phase in which gateways hold the shard's primary traffic.
const PhaseBuffer = "buffer"

// Step is one named step of a recovery.
type Step struct {
	Name    string    `json:"name"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	Status  string    `json:"status"` // running, ok, failed, skipped
	Detail  string    `json:"detail,omitempty"`
}

// Done reports whether the recovery ended.
func (r *Recovery) Done() bool { return r.Status != StatusRunning }

// Duration is how long it ran (until now if running).
func (r *Recovery) Duration(now time.Time) time.Duration {
	if r.Ended.IsZero() {
		return now.Sub(r.Started)
	}
	return r.Ended.Sub(r.Started)
}

// newRecoveryID is sortable by time: the start in nanoseconds, then who ran it.
func newRecoveryID(now time.Time, leader string) string {
	h := uint32(2166136261)
	for i := 0; i < len(leader); i++ {
		h = (h ^ uint32(leader[i])) * 16777619
	}
	return fmt.Sprintf("%019d-%08x", now.UnixNano(), h)
}

// Journal reads and writes the journal through the global topo Conn.
type Journal struct {
	conn topo.Conn
}

// NewJournal returns the journal of the topo ts.
func NewJournal(ts *topo.Server) *Journal { return &Journal{conn: ts.GlobalConn()} }

func shardDir(keyspace, shard string) string { return path.Join(JournalDir, keyspace, shard) }

func recoveryPath(keyspace, shard, id string) string {
	return path.Join(shardDir(keyspace, shard), "recoveries", id)
}

// maxRecoveries is how many recoveries of a shard the journal keeps.
const maxRecoveries = 50

// Put writes a recovery (creating or replacing it).
func (j *Journal) Put(ctx context.Context, r *Recovery) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	p := recoveryPath(r.Keyspace, r.Shard, r.ID)
	if _, err := j.conn.Update(ctx, p, data, nil); err != nil {
		return fmt.Errorf("journal %s/%s recovery %s: %w", r.Keyspace, r.Shard, r.ID, err)
	}
	return nil
}

// Recoveries returns the shard's recoveries, newest first.
func (j *Journal) Recoveries(ctx context.Context, keyspace, shard string) ([]*Recovery, error) {
	dir := path.Join(shardDir(keyspace, shard), "recoveries")
	names, err := j.conn.ListDir(ctx, dir)
	if errors.Is(err, topo.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal of %s/%s: %w", keyspace, shard, err)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(b, a) })
	var out []*Recovery
	for _, n := range names {
		r, err := j.get(ctx, path.Join(dir, n))
		if errors.Is(err, topo.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (j *Journal) get(ctx context.Context, p string) (*Recovery, error) {
	data, _, err := j.conn.Get(ctx, p)
	if err != nil {
		return nil, err
	}
	r := &Recovery{}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("journal record %s: %w (%v); delete it", p, topo.ErrCorrupt, err)
	}
	return r, nil
}

// Prune removes the oldest recoveries beyond maxRecoveries.
func (j *Journal) Prune(ctx context.Context, keyspace, shard string) error {
	dir := path.Join(shardDir(keyspace, shard), "recoveries")
	names, err := j.conn.ListDir(ctx, dir)
	if err != nil || len(names) <= maxRecoveries {
		return nil
	}
	slices.Sort(names)
	for _, n := range names[:len(names)-maxRecoveries] {
		if err := j.conn.Delete(ctx, path.Join(dir, n), nil); err != nil && !errors.Is(err, topo.ErrNoNode) {
			return err
		}
	}
	return nil
}

// Ack acknowledges the shard's latest ended recovery (orchestrator's ack-cluster-recoveries):
// the block period no longer holds back the next automatic one.
func (j *Journal) Ack(ctx context.Context, keyspace, shard, by, comment string, now time.Time) (*Recovery, error) {
	recs, err := j.Recoveries(ctx, keyspace, shard)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Kind == KindFix || !r.Done() {
			continue
		}
		if r.Acknowledged {
			return r, nil
		}
		r.Acknowledged, r.AckedBy, r.AckedAt, r.AckComment = true, by, now, comment
		return r, j.Put(ctx, r)
	}
	return nil, fmt.Errorf("%s/%s has no ended recovery to acknowledge", keyspace, shard)
}

// Writers returns the servers recorded as the shard's primaries.
func (j *Journal) Writers(ctx context.Context, keyspace, shard string) ([]Writer, error) {
	data, _, err := j.conn.Get(ctx, path.Join(shardDir(keyspace, shard), "writers"))
	if errors.Is(err, topo.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var w []Writer
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("journal writers of %s/%s: %w (%v)", keyspace, shard, topo.ErrCorrupt, err)
	}
	return w, nil
}

// AddWriter records a server as a primary of the shard, or updates its term end; it returns
// the list as written.
func (j *Journal) AddWriter(ctx context.Context, keyspace, shard string, w Writer) ([]Writer, error) {
	p := path.Join(shardDir(keyspace, shard), "writers")
	for range 16 {
		data, v, err := j.conn.Get(ctx, p)
		var ws []Writer
		switch {
		case errors.Is(err, topo.ErrNoNode):
			v = nil
		case err != nil:
			return nil, err
		default:
			if err := json.Unmarshal(data, &ws); err != nil {
				ws = nil // a damaged list is rewritten
			}
		}
		i := slices.IndexFunc(ws, func(x Writer) bool { return x.ServerID == w.ServerID })
		switch {
		case i < 0:
			ws = append(ws, w)
		case ws[i].Alias == w.Alias && ws[i].TermEnd.Equal(w.TermEnd):
			return ws, nil
		default:
			if w.TermEnd.IsZero() {
				w.TermEnd = ws[i].TermEnd
			}
			ws[i] = w
		}
		out, _ := json.MarshalIndent(ws, "", "  ")
		if v == nil {
			_, err = j.conn.Create(ctx, p, out)
		} else {
			_, err = j.conn.Update(ctx, p, out, v)
		}
		if errors.Is(err, topo.ErrNodeExists) || errors.Is(err, topo.ErrBadVersion) {
			continue
		}
		return ws, err
	}
	return nil, fmt.Errorf("journal writers of %s/%s: still changing; retry", keyspace, shard)
}

// ParseKeyspaceShard reads "ks/shard" (or "ks", shard "0").
func ParseKeyspaceShard(s string) (string, string, error) {
	ks, shard, ok := strings.Cut(s, "/")
	if !ok {
		shard = "0"
	}
	if ks == "" || shard == "" {
		return "", "", fmt.Errorf("%q: want keyspace/shard, e.g. commerce/0", s)
	}
	return ks, shard, nil
}

// shardKey is "ks/shard".
func shardKey(keyspace, shard string) string { return keyspace + "/" + shard }

// recoveryKeyFromPath splits a journal key relative to JournalDir into its shard and
// recovery id; ok is false for other keys.
func recoveryKeyFromPath(rel string) (keyspace, shard, id string, ok bool) {
	parts := strings.Split(strings.Trim(rel, "/"), "/")
	if len(parts) != 4 || parts[2] != "recoveries" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[3], true
}
