package failover

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// Status is what /debug/failover shows.
type Status struct {
	ID           string        `json:"id"`
	Leader       bool          `json:"leader"`
	PollInterval string        `json:"poll_interval"`
	LastPoll     time.Time     `json:"last_poll,omitzero"`
	TopoError    string        `json:"topo_error,omitempty"`
	Shards       []ShardStatus `json:"shards"`
	// Recoveries are the latest recoveries (all shards), newest first.
	Recoveries []*Recovery `json:"recoveries"`
}

// ShardStatus is one shard's latest analysis and tablets.
type ShardStatus struct {
	Keyspace string         `json:"keyspace"`
	Shard    string         `json:"shard"`
	Policy   string         `json:"durability_policy"`
	Analysis Analysis       `json:"analysis"`
	Blocked  string         `json:"blocked,omitempty"`
	Running  bool           `json:"recovery_running"`
	Tablets  []TabletStatus `json:"tablets"`
}

// TabletStatus is one tablet as the last poll read it.
type TabletStatus struct {
	Alias   string   `json:"alias"`
	Type    string   `json:"type"`
	Rule    Rule     `json:"promotion_rule"`
	Reading *Reading `json:"reading,omitempty"`
}

// Status returns the controller's view.
func (c *Controller) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := Status{ID: c.cfg.ID, Leader: c.leader, PollInterval: c.cfg.PollInterval.String(), LastPoll: c.lastPoll, TopoError: c.topoErr,
		Shards: []ShardStatus{}, Recoveries: []*Recovery{}}
	keys := make([]string, 0, len(c.shards))
	for k := range c.shards {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := c.shards[k]
		ss := ShardStatus{Keyspace: s.keyspace, Shard: s.shard, Analysis: s.analysis, Blocked: s.blocked, Running: s.running}
		if s.rules.Policy != nil {
			ss.Policy = s.rules.Policy.Name()
		}
		for _, t := range s.tablets {
			ts := TabletStatus{Alias: tabletName(t), Type: t.GetType().String(), Reading: s.readings[tabletName(t)]}
			if s.rules.Policy != nil {
				ts.Rule = s.rules.Of(t)
			}
			ss.Tablets = append(ss.Tablets, ts)
		}
		st.Shards = append(st.Shards, ss)
	}
	seen := map[string]bool{}
	for _, r := range c.rep.Running() {
		st.Recoveries = append(st.Recoveries, r)
		seen[r.ID] = true
	}
	for id, r := range c.journal {
		if !seen[id] {
			st.Recoveries = append(st.Recoveries, r)
		}
	}
	slices.SortFunc(st.Recoveries, func(a, b *Recovery) int { return strings.Compare(b.ID, a.ID) })
	if len(st.Recoveries) > 20 {
		st.Recoveries = st.Recoveries[:20]
	}
	return st
}

// WriteText writes the status for people: `vtdirect failover status` and
// /debug/failover?format=text.
func (s Status) WriteText(w io.Writer) {
	role := "observer"
	if s.Leader {
		role = "LEADER"
	}
	fmt.Fprintf(w, "failover: %s (%s), poll every %s", s.ID, role, s.PollInterval)
	if !s.LastPoll.IsZero() {
		fmt.Fprintf(w, ", last poll %s", s.LastPoll.Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	if s.TopoError != "" {
		fmt.Fprintf(w, "topo error: %s\n", s.TopoError)
	}
	for _, sh := range s.Shards {
		fmt.Fprintf(w, "\n%s/%s  policy %s  primary %s  analysis %s\n", sh.Keyspace, sh.Shard, dash(sh.Policy), dash(sh.Analysis.Primary), sh.Analysis.Code)
		if sh.Blocked != "" {
			fmt.Fprintf(w, "  %s\n", sh.Blocked)
		}
		if sh.Analysis.Blocked != "" {
			fmt.Fprintf(w, "  no action: %s\n", sh.Analysis.Blocked)
		}
		for _, t := range sh.Tablets {
			fmt.Fprintf(w, "  %-12s %-8s %-10s %s\n", t.Alias, strings.TrimPrefix(t.Type, "TabletType_"), t.Rule, readingLine(t.Reading))
		}
		for _, p := range sh.Analysis.Problems {
			fmt.Fprintf(w, "  %-6s %-28s %s\n", p.Action, p.Code, p.Detail)
		}
	}
	if len(s.Recoveries) > 0 {
		fmt.Fprintln(w, "\nrecoveries (newest first):")
	}
	for _, r := range s.Recoveries {
		WriteRecovery(w, r)
	}
}

// WriteRecovery writes one recovery and its steps.
func WriteRecovery(w io.Writer, r *Recovery) {
	ack := ""
	if r.Acknowledged {
		ack = " acknowledged by " + r.AckedBy
	}
	primaries := ""
	if r.OldPrimary != "" || r.NewPrimary != "" {
		primaries = fmt.Sprintf(" %s -> %s,", dash(r.OldPrimary), dash(r.NewPrimary))
	}
	fmt.Fprintf(w, "  %s %s/%s %s (%s) %s:%s %s%s\n", r.ID, r.Keyspace, r.Shard, r.Kind, r.Trigger, r.Status,
		primaries, r.Duration(time.Now()).Round(time.Millisecond), ack)
	if r.Error != "" {
		fmt.Fprintf(w, "      error: %s\n", r.Error)
	}
	for _, st := range r.Steps {
		d := time.Duration(0)
		if !st.Ended.IsZero() {
			d = st.Ended.Sub(st.Started)
		}
		fmt.Fprintf(w, "      %-22s %-8s %7s  %s\n", st.Name, st.Status, d.Round(time.Millisecond), st.Detail)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func readingLine(r *Reading) string {
	switch {
	case r == nil:
		return "not read yet"
	case r.Err != "":
		return "UNREACHABLE: " + r.Err
	}
	ro := "writable"
	if r.ReadOnly {
		ro = "read-only"
	}
	out := fmt.Sprintf("%s gtid %s", ro, dash(r.Executed.String()))
	if st := r.Replica; st != nil {
		out += fmt.Sprintf(" from %s io=%s sql=%v", st.Source(), st.IOState, st.SQLRunning)
		if st.LastIOError != "" && st.IOState != "Yes" {
			out += " io_error=" + fmt.Sprintf("%q", st.LastIOError)
		}
		if st.LastSQLError != "" {
			out += " sql_error=" + fmt.Sprintf("%q", st.LastSQLError)
		}
	}
	if r.SemiSync.PrimaryEnabled {
		out += fmt.Sprintf(" semisync-primary(active=%v clients=%d)", r.SemiSync.PrimaryActive, r.SemiSync.Clients)
	}
	if r.SemiSync.ReplicaEnabled {
		out += " semisync-replica"
	}
	return out
}
