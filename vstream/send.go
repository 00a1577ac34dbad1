package vstream

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// sendState is the client's side of one VStream, shared by its shard streams (which send
// from their own goroutines) and the heartbeat loop.
type sendState struct {
	cfg       Config
	heartbeat time.Duration // 0 = none
	chunkSize int           // flags.transaction_chunk_size: 0 = the packet size

	mu        sync.Mutex // serializes send (a gRPC stream takes one sender at a time) and guards the fields below
	send      SendFunc
	vgtid     *binlogdatapb.VGtid
	byShard   map[string]*binlogdatapb.ShardGtid // "ks/shard" -> entry of vgtid
	copyShard map[string]bool                    // shards that sent COPY_COMPLETED
	copyDone  bool
	lastSend  time.Time // monotonic: when the last response went out, for heartbeats
	journals  map[int64]*journalWait
	active    atomic.Int64 // shard streams running

	stopOnReshard, sendJournals bool
	// startShard starts the stream of a new shard (after a journal); set by the Manager
	// before any stream runs, called with mu held.
	startShard func(*binlogdatapb.ShardGtid) error
}

// streamStarted and streamEnded count the running shard streams; streamEnded returns how
// many are left.
func (st *sendState) streamStarted() { st.active.Add(1) }

func (st *sendState) streamEnded() int64 { return st.active.Add(-1) }

func newSendState(sgtids []*binlogdatapb.ShardGtid, flags *vtgatepb.VStreamFlags, cfg Config, send SendFunc) *sendState {
	st := &sendState{cfg: cfg, send: send, vgtid: &binlogdatapb.VGtid{}, byShard: map[string]*binlogdatapb.ShardGtid{},
		copyShard: map[string]bool{}, heartbeat: time.Duration(flags.GetHeartbeatInterval()) * time.Second, lastSend: time.Now(),
		chunkSize: int(flags.GetTransactionChunkSize()), journals: map[int64]*journalWait{},
		stopOnReshard: flags.GetStopOnReshard(), sendJournals: flags.GetStopOnReshard() || flags.GetIncludeReshardJournalEvents()}
	for _, sg := range sgtids {
		c := sg.CloneVT()
		st.vgtid.ShardGtids = append(st.vgtid.ShardGtids, c)
		st.byShard[c.Keyspace+"/"+c.Shard] = c
	}
	return st
}

// deliver sends one shard's batch of whole transactions as one response, with its internal
// GTID/LASTPK events turned into VGTID events. The response gets its own slice: batch may be
// reused once deliver returns.
func (st *sendState) deliver(batch []*binlogdatapb.VEvent) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.deliverLocked(batch)
}

// deliverLocked is deliver with st.mu held by the caller (a shard sending a transaction in
// chunks).
func (st *sendState) deliverLocked(batch []*binlogdatapb.VEvent) error {
	resp := &vtgatepb.VStreamResponse{Events: st.convert(make([]*binlogdatapb.VEvent, 0, len(batch)+1), batch)}
	err := st.send(resp)
	st.lastSend = time.Now()
	return err
}

// heartbeats sends a HEARTBEAT whenever nothing was sent for the heartbeat interval, until ctx
// ends or the client fails.
func (st *sendState) heartbeats(ctx context.Context) error {
	if st.heartbeat <= 0 {
		return nil
	}
	timer := time.NewTimer(st.heartbeat)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		st.mu.Lock()
		wait := st.heartbeat - time.Since(st.lastSend)
		if wait <= 0 {
			now := st.cfg.Now().UnixNano()
			hb := &vtgatepb.VStreamResponse{Events: []*binlogdatapb.VEvent{{
				Type: binlogdatapb.VEventType_HEARTBEAT, Timestamp: now / 1e9, CurrentTime: now}}}
			err := st.send(hb)
			st.lastSend = time.Now()
			if err != nil {
				st.mu.Unlock()
				return err
			}
			wait = st.heartbeat
		}
		st.mu.Unlock()
		timer.Reset(wait)
	}
}

// convert appends batch to dst with the internal GTID/LASTPK events turned into VGTID events.
func (st *sendState) convert(dst, batch []*binlogdatapb.VEvent) []*binlogdatapb.VEvent {
	for _, ev := range batch {
		switch ev.Type {
		case binlogdatapb.VEventType_GTID:
			if sg := st.byShard[ev.Keyspace+"/"+ev.Shard]; sg != nil {
				sg.Gtid = ev.Gtid
			}
			// The internal GTID event is ours alone: turn it into the VGTID event in place.
			ev.Type, ev.Gtid, ev.Vgtid = binlogdatapb.VEventType_VGTID, "", cloneVGtid(st.vgtid)
		case binlogdatapb.VEventType_LASTPK:
			if sg := st.byShard[ev.Keyspace+"/"+ev.Shard]; sg != nil && ev.Vgtid != nil && len(ev.Vgtid.ShardGtids) == 1 {
				src := ev.Vgtid.ShardGtids[0]
				sg.Gtid = src.Gtid
				sg.TablePKs = src.TablePKs
			}
			ev = &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_VGTID, Vgtid: cloneVGtid(st.vgtid), Keyspace: ev.Keyspace, Shard: ev.Shard}
		case binlogdatapb.VEventType_JOURNAL:
			if !st.sendJournals || ev.Journal.GetMigrationType() != binlogdatapb.MigrationType_SHARDS {
				continue
			}
		case binlogdatapb.VEventType_COPY_COMPLETED:
			dst = append(dst, ev)
			st.copyShard[ev.Keyspace+"/"+ev.Shard] = true
			if !st.copyDone && len(st.copyShard) == len(st.byShard) {
				st.copyDone = true
				dst = append(dst, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_COPY_COMPLETED})
			}
			continue
		}
		dst = append(dst, ev)
	}
	return dst
}

// batchSize estimates the bytes of a batch.
func batchSize(b []*binlogdatapb.VEvent) int {
	n := 0
	for _, ev := range b {
		n += eventSize(ev)
	}
	return n
}
