package vstream

import (
	"context"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// sendState is owned by the sender goroutine (loop): the VGTID and copy bookkeeping need no lock.
type sendState struct {
	cfg       Config
	send      SendFunc
	vgtid     *binlogdatapb.VGtid
	byShard   map[string]*binlogdatapb.ShardGtid // "ks/shard" -> entry of vgtid
	copyShard map[string]bool                    // shards that sent COPY_COMPLETED
	copyDone  bool
	heartbeat time.Duration // 0 = none
}

func newSendState(sgtids []*binlogdatapb.ShardGtid, flags *vtgatepb.VStreamFlags, cfg Config, send SendFunc) *sendState {
	st := &sendState{cfg: cfg, send: send, vgtid: &binlogdatapb.VGtid{}, byShard: map[string]*binlogdatapb.ShardGtid{},
		copyShard: map[string]bool{}, heartbeat: time.Duration(flags.GetHeartbeatInterval()) * time.Second}
	for _, sg := range sgtids {
		c := sg.CloneVT()
		st.vgtid.ShardGtids = append(st.vgtid.ShardGtids, c)
		st.byShard[c.Keyspace+"/"+c.Shard] = c
	}
	return st
}

// loop sends batches from the shard streams until ctx ends or the client fails.
func (st *sendState) loop(ctx context.Context, in <-chan []*binlogdatapb.VEvent) error {
	var tick <-chan time.Time
	var timer *time.Timer
	if st.heartbeat > 0 {
		timer = time.NewTimer(st.heartbeat)
		defer timer.Stop()
		tick = timer.C
	}
	resp := &vtgatepb.VStreamResponse{}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case batch := <-in:
			resp.Events = st.convert(resp.Events[:0], batch)
			size := batchSize(batch)
			// Merge more whole batches that are already waiting, up to the response bounds.
		drain:
			for len(resp.Events) < st.cfg.MaxResponseEvents && size < st.cfg.MaxResponseBytes {
				select {
				case b := <-in:
					resp.Events = st.convert(resp.Events, b)
					size += batchSize(b)
				default:
					break drain
				}
			}
			if err := st.send(resp); err != nil {
				return err
			}
			resp = &vtgatepb.VStreamResponse{Events: make([]*binlogdatapb.VEvent, 0, cap(resp.Events))}
		case <-tick:
			now := st.cfg.Now().UnixNano()
			hb := &vtgatepb.VStreamResponse{Events: []*binlogdatapb.VEvent{{
				Type: binlogdatapb.VEventType_HEARTBEAT, Timestamp: now / 1e9, CurrentTime: now}}}
			if err := st.send(hb); err != nil {
				return err
			}
		}
		if timer != nil {
			timer.Reset(st.heartbeat)
		}
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
			ev = &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_VGTID, Vgtid: st.vgtid.CloneVT(), Keyspace: ev.Keyspace, Shard: ev.Shard}
		case binlogdatapb.VEventType_LASTPK:
			if sg := st.byShard[ev.Keyspace+"/"+ev.Shard]; sg != nil && ev.Vgtid != nil && len(ev.Vgtid.ShardGtids) == 1 {
				src := ev.Vgtid.ShardGtids[0]
				sg.Gtid = src.Gtid
				sg.TablePKs = src.TablePKs
			}
			ev = &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_VGTID, Vgtid: st.vgtid.CloneVT(), Keyspace: ev.Keyspace, Shard: ev.Shard}
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

// batchSize estimates the bytes of a batch from its row data.
func batchSize(b []*binlogdatapb.VEvent) int {
	n := 0
	for _, ev := range b {
		n += 16
		if re := ev.RowEvent; re != nil {
			for _, rc := range re.RowChanges {
				n += len(rc.GetBefore().GetValues()) + len(rc.GetAfter().GetValues())
			}
		}
	}
	return n
}
