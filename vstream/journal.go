package vstream

// Resharding journals, as Vitess defines them. When a resharding (MoveTables/Reshard) cuts
// over, Vitess writes one row per source shard into the sidecar table _vt.resharding_journal
// (id, db_name, val: a binlogdata.Journal in protobuf text form) naming the participants (the
// old shards) and the positions the new shards start from (shard_gtids). A shard stream that
// reads such a row for its database sends a JOURNAL event (to the client only with
// flags.stop_on_reshard or flags.include_reshard_journal_events) and stops there. Once every
// participant of the journal has reached it:
//   - with stop_on_reshard, the participants' streams end (the VStream ends when no shard is
//     left, and the client reads the end of the stream; the VGTID it has is the position
//     before the journal);
//   - otherwise the participants are replaced in the VGTID by the journal's shard_gtids, and
//     streams of the new shards start from there, so the consumer moves across the reshard.
// A journal some but not all of whose participants are in the stream fails it with
// FAILED_PRECONDITION (Vitess: INTERNAL); a journal of table migrations (MoveTables) is
// ignored, as Vitess does.

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/prototext"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	vtrpcpb "vitess.io/vitess/go/vt/proto/vtrpc"
)

const (
	journalDB    = "_vt"
	journalTable = "resharding_journal"
)

// errJournalEnd ends a shard stream that reached a journal it participates in.
var errJournalEnd = errors.New("the shard's stream ended at a resharding journal")

// journalWait is one journal the stream's participants converge on.
type journalWait struct {
	journal *binlogdatapb.Journal
	joined  map[string]bool // participant "ks/shard" -> reached the journal
	done    chan struct{}   // closed when every participant joined
}

// journalRows turns the inserted rows of _vt.resharding_journal for the stream's database
// into JOURNAL events. cols are the table's column names (nil: Vitess's column order id,
// db_name, val).
func (s *shardStream) journalRows(e [][]any, cols []string) ([]*binlogdatapb.VEvent, error) {
	dbCol, valCol := 1, 2
	for i, c := range cols {
		switch c {
		case "db_name":
			dbCol = i
		case "val":
			valCol = i
		}
	}
	var out []*binlogdatapb.VEvent
	for _, row := range e {
		if len(row) <= max(dbCol, valCol) || textOf(row[dbCol]) != s.src.DBName {
			continue
		}
		j := &binlogdatapb.Journal{}
		if err := prototext.Unmarshal([]byte(textOf(row[valCol])), j); err != nil {
			return nil, fmt.Errorf("decode the resharding journal of %s: %w", s.src.DBName, err)
		}
		out = append(out, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_JOURNAL, Journal: j, Keyspace: s.ks, Shard: s.shard})
	}
	return out, nil
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

// onJournal is called by a shard stream after it sent the transaction holding journal j. It
// returns true when the stream must end (it was a participant; the journal converged).
func (s *shardStream) onJournal(ctx context.Context, j *binlogdatapb.Journal) (bool, error) {
	if j.MigrationType == binlogdatapb.MigrationType_TABLES {
		return false, nil
	}
	w, err := s.st.joinJournal(s.ks, s.shard, j)
	if err != nil || w == nil {
		return false, err
	}
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-w.done:
		return true, nil
	}
}

// joinJournal records that shard ks/shard reached journal j; nil when the shard is not one of
// its participants. The last participant to join replaces the participants by the journal's
// shards (unless stop_on_reshard) and releases the others.
func (st *sendState) joinJournal(ks, shard string, j *binlogdatapb.Journal) (*journalWait, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	w := st.journals[j.Id]
	if w == nil {
		w = &journalWait{journal: j, joined: map[string]bool{}, done: make(chan struct{})}
		in, out := 0, 0
		for _, p := range j.Participants {
			if st.byShard[p.Keyspace+"/"+p.Shard] != nil {
				in++
				w.joined[p.Keyspace+"/"+p.Shard] = false
			} else {
				out++
			}
		}
		if in > 0 && out > 0 {
			return nil, &Error{Code: vtrpcpb.Code_FAILED_PRECONDITION, Err: fmt.Errorf(
				"vtdirect: resharding journal %d names participants %v, only some of which are in this stream: stream every participant shard (or the whole keyspace) to follow the reshard", j.Id, j.Participants)}
		}
		if in == 0 {
			return nil, nil
		}
		st.journals[j.Id] = w
	}
	key := ks + "/" + shard
	if _, ok := w.joined[key]; !ok {
		return nil, nil
	}
	w.joined[key] = true
	for _, ok := range w.joined {
		if !ok {
			return w, nil
		}
	}
	if !st.stopOnReshard {
		var kept []*binlogdatapb.ShardGtid
		for _, sg := range st.vgtid.ShardGtids {
			if _, gone := w.joined[sg.Keyspace+"/"+sg.Shard]; gone {
				delete(st.byShard, sg.Keyspace+"/"+sg.Shard)
				continue
			}
			kept = append(kept, sg)
		}
		for _, sg := range j.ShardGtids {
			c := sg.CloneVT()
			kept = append(kept, c)
			st.byShard[c.Keyspace+"/"+c.Shard] = c
			if err := st.startShard(c.CloneVT()); err != nil {
				return nil, err
			}
		}
		st.vgtid.ShardGtids = kept
	}
	close(w.done)
	return w, nil
}
