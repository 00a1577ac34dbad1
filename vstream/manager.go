package vstream

// The manager serves one VStream request: a shard stream per (keyspace, shard) of the VGTID,
// each sending whole transactions to the client from its own goroutine through one shared
// sendState, which owns the VGTID, turns the streams' GTID/LASTPK events into VGTID events
// and serializes the responses (so transactions are never interleaved); a heartbeat loop
// sends heartbeats when idle. Mirrors Vitess's go/vt/vtgate/vstream_manager.go.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// Manager serves VStream requests. It is safe for concurrent use.
type Manager struct {
	cfg      Config
	serverID atomic.Uint32 // last replica server_id handed out
	trackers *trackerSet   // schema trackers of shards whose sources log no column names
	hubs     *hubSet       // shared binlog dumps, one per MariaDB server (sharedbinlog.go)
}

// NewManager validates cfg and returns a Manager.
func NewManager(cfg Config) (*Manager, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg}
	m.trackers = newTrackerSet(m)
	m.hubs = newHubSet(m.cfg)
	m.serverID.Store(cfg.ServerIDBase)
	return m, nil
}

// Close stops the schema trackers and shared binlog dumps the Manager started (streams end
// with their contexts).
func (m *Manager) Close() {
	m.trackers.close()
	m.hubs.close()
}

// SharedDumpReaders reports how many streams read the shared binlog dump of the MySQL server
// at addr (host:port), 0 when it has none.
func (m *Manager) SharedDumpReaders(addr string) int { return m.hubs.subscribers(addr) }

func (m *Manager) nextServerID() uint32 { return m.serverID.Add(1) }

// SendFunc delivers one response to the client; an error ends the stream.
type SendFunc func(*vtgatepb.VStreamResponse) error

// VStream streams req until ctx ends or an error that cannot be retried; errors carry a code
// (see CodeOf).
func (m *Manager) VStream(ctx context.Context, req *vtgatepb.VStreamRequest, send SendFunc) error {
	flags := req.GetFlags()
	if flags == nil {
		flags = &vtgatepb.VStreamFlags{}
	}
	types, inOrder, err := tabletTypes(req.GetTabletType(), flags.GetTabletOrder())
	if err != nil {
		return err
	}
	sgtids, err := m.expandShards(ctx, req.GetVgtid())
	if err != nil {
		return err
	}
	var cells []string
	for c := range strings.SplitSeq(flags.GetCells(), ",") {
		if c = strings.TrimSpace(c); c != "" {
			cells = append(cells, c)
		}
	}
	st := newSendState(sgtids, flags, m.cfg, send)
	var streams []*shardStream
	for _, sg := range sgtids {
		s, err := m.newShardStream(req, sg, st, types, inOrder, cells)
		if err != nil {
			return err
		}
		streams = append(streams, s)
	}
	g, gctx := errgroup.WithContext(ctx)
	hctx, stopHeartbeats := context.WithCancel(gctx)
	defer stopHeartbeats()
	var start func(s *shardStream, lastPKs []*binlogdatapb.TableLastPK)
	start = func(s *shardStream, lastPKs []*binlogdatapb.TableLastPK) {
		st.streamStarted()
		g.Go(func() error {
			defer func() {
				if st.streamEnded() == 0 {
					stopHeartbeats() // every shard ended at a journal: the VStream ends
				}
			}()
			if s.copying != nil {
				if err := s.prepareCopy(gctx, lastPKs, flags.GetTablesToCopy()); err != nil {
					return err
				}
			}
			return s.run(gctx)
		})
	}
	// A journal that moves the stream to new shards starts their streams (journal.go).
	st.startShard = func(sg *binlogdatapb.ShardGtid) error {
		s, err := m.newShardStream(req, sg, st, types, inOrder, cells)
		if err != nil {
			return err
		}
		start(s, sg.TablePKs)
		return nil
	}
	for i, s := range streams {
		start(s, sgtids[i].TablePKs)
	}
	g.Go(func() error {
		if err := st.heartbeats(hctx); err != nil && gctx.Err() == nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	})
	return g.Wait()
}

// newShardStream builds the stream of one VGTID entry.
func (m *Manager) newShardStream(req *vtgatepb.VStreamRequest, sg *binlogdatapb.ShardGtid, st *sendState,
	types []topodatapb.TabletType, inOrder bool, cells []string) (*shardStream, error) {
	flags := req.GetFlags()
	f, err := parseFilter(req.GetFilter(), sg.Shard)
	if err != nil {
		return nil, err
	}
	s := &shardStream{
		m: m, log: m.cfg.Logger, ks: sg.Keyspace, shard: sg.Shard, filter: f, st: st,
		excludeK: flags.GetExcludeKeyspaceFromTableName(), refused: map[string]string{},
		req: SourceRequest{Keyspace: sg.Keyspace, Shard: sg.Shard, TabletTypes: types, InOrder: inOrder,
			Cells: cells, CellPreference: flags.GetCellPreference()},
	}
	start, err := parseStart(sg)
	if err != nil {
		return nil, err
	}
	s.pos, s.current = start.pos, start.current
	if start.copy {
		s.copying = &copyState{} // filled once a source is connected
	}
	return s, nil
}

// startPoint is where one VGTID entry starts: a position, or "current", and whether tables
// are copied first (no position, or a copy under way: table_p_ks).
type startPoint struct {
	pos     Position
	current bool
	copy    bool
}

// parseStart reads the start of a VGTID entry a client sent: its position and its copy
// progress (table_p_ks), which is checked whole here, before any stream starts.
func parseStart(sg *binlogdatapb.ShardGtid) (startPoint, error) {
	var p startPoint
	switch g := sg.Gtid; {
	case g == "current":
		p.current = true
	case g == "":
	default:
		var err error
		if p.pos, err = ParsePosition(g); err != nil {
			return p, invalidArg("vgtid of %s/%s: %v", sg.Keyspace, sg.Shard, err)
		}
	}
	if sg.Gtid == "" || len(sg.TablePKs) > 0 {
		if p.current {
			return p, invalidArg("vgtid of %s/%s: table_p_ks cannot go with position current", sg.Keyspace, sg.Shard)
		}
		if _, err := decodeLastPKs(sg.TablePKs); err != nil {
			return p, invalidArg("vgtid of %s/%s: %v", sg.Keyspace, sg.Shard, err)
		}
		p.copy = true
	}
	return p, nil
}

// prepareCopy lists the tables to copy on a source (any healthy one: table lists agree).
func (s *shardStream) prepareCopy(ctx context.Context, lastPKs []*binlogdatapb.TableLastPK, tablesToCopy []string) error {
	var lastErr error
	req := s.req
	for attempt := 0; attempt <= s.m.cfg.MaxRetries; attempt++ {
		src, err := s.m.cfg.Picker.PickSource(ctx, req)
		if err != nil {
			if e := s.noFitSource(err); e != nil {
				return e
			}
		} else {
			s.src = src
			if err = s.connect(ctx); err == nil {
				s.copying, err = s.newCopyState(ctx, lastPKs, tablesToCopy)
				s.disconnect()
				if err == nil {
					return nil
				}
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ve *Error
		if errors.As(err, &ve) {
			return err
		}
		var ue *errUnfit
		if errors.As(err, &ue) {
			s.refused[ue.alias] = ue.reason
			req.Exclude = append(req.Exclude, ue.alias)
			continue
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.m.cfg.RetryBackoff):
		}
	}
	return fmt.Errorf("vtdirect: list tables to copy in %s/%s: %w", s.ks, s.shard, lastErr)
}

// expandShards validates the VGTID and replaces a shard "" by every shard of its keyspace.
func (m *Manager) expandShards(ctx context.Context, vgtid *binlogdatapb.VGtid) ([]*binlogdatapb.ShardGtid, error) {
	if vgtid == nil || len(vgtid.ShardGtids) == 0 {
		return nil, invalidArg("vgtid must have at least one value with a starting position")
	}
	var out []*binlogdatapb.ShardGtid
	seen := map[string]bool{}
	for _, sg := range vgtid.ShardGtids {
		if sg.Keyspace == "" {
			return nil, invalidArg("vgtid entry without a keyspace")
		}
		shards := []string{sg.Shard}
		if sg.Shard == "" {
			if sg.Gtid != "" && sg.Gtid != "current" {
				return nil, invalidArg("vgtid of keyspace %s: a position must name its shard (all shards take only \"\" or \"current\")", sg.Keyspace)
			}
			var err error
			if shards, err = m.cfg.Picker.Shards(ctx, sg.Keyspace); err != nil {
				return nil, fmt.Errorf("vtdirect: list shards of %s: %w", sg.Keyspace, err)
			}
			if len(shards) == 0 {
				return nil, invalidArg("keyspace %s has no shards", sg.Keyspace)
			}
		}
		for _, sh := range shards {
			key := sg.Keyspace + "/" + sh
			if seen[key] {
				return nil, invalidArg("vgtid lists %s twice", key)
			}
			seen[key] = true
			c := sg.CloneVT()
			c.Shard = sh
			out = append(out, c)
		}
	}
	return out, nil
}

// tabletTypes reads the acceptable tablet types. Vitess's VStreamRequest has one tablet_type;
// vtdirect also accepts a list in flags.tablet_order, in the form of Vitess's tablet picker:
// "in_order:REPLICA,PRIMARY" (first type with a healthy tablet wins) or "any:REPLICA,RDONLY".
// Plain "in_order"/"inorder"/"any" only set the order for the one tablet_type.
func tabletTypes(tt topodatapb.TabletType, order string) ([]topodatapb.TabletType, bool, error) {
	if tt == topodatapb.TabletType_UNKNOWN {
		tt = topodatapb.TabletType_REPLICA
	}
	kind, list, hasList := strings.Cut(strings.TrimSpace(order), ":")
	var inOrder bool
	switch strings.ToLower(strings.ReplaceAll(kind, "_", "")) {
	case "", "any":
	case "inorder":
		inOrder = true
	default:
		return nil, false, invalidArg("flags.tablet_order %q: want any, in_order or in_order:TYPE,TYPE", order)
	}
	if !hasList {
		return []topodatapb.TabletType{tt}, inOrder, nil
	}
	var types []topodatapb.TabletType
	for name := range strings.SplitSeq(list, ",") {
		name = strings.ToUpper(strings.TrimSpace(name))
		if name == "MASTER" {
			name = "PRIMARY"
		}
		v, ok := topodatapb.TabletType_value[name]
		if !ok || name == "UNKNOWN" {
			return nil, false, invalidArg("flags.tablet_order %q: unknown tablet type %q", order, name)
		}
		types = append(types, topodatapb.TabletType(v))
	}
	return types, inOrder, nil
}
