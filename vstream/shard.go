package vstream

// One shard's stream: pick a source tablet, copy (if asked), then follow its binlog. On a
// failure it re-picks a source with the failed tablet excluded and resumes from the last
// position it sent to the client, so the consumer sees no gap and no repeat.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	vtrpcpb "vitess.io/vitess/go/vt/proto/vtrpc"

	"github.com/vtdirect/vtdirect/backendconn"
	"github.com/vtdirect/vtdirect/flavor"
)

// shardStream is owned by the one goroutine that runs run().
type shardStream struct {
	m        *Manager
	log      *slog.Logger
	ks       string
	shard    string
	req      SourceRequest
	filter   *filter
	excludeK bool       // flags.exclude_keyspace_from_table_name
	st       *sendState // the client's stream, shared with the other shards
	current  bool       // start at the source's current position
	sent     int        // responses sent (progress, for retry accounting)
	// refused holds the tablets turned down for their settings or for lacking the position,
	// with why; once no other tablet is left, the stream fails naming them.
	refused map[string]string

	// Whole transactions read but not yet sent (see replicate), and their estimated size.
	pending      []*binlogdatapb.VEvent
	pendingBytes int
	// holding: this stream holds st.mu while it sends a transaction in chunks (chunk.go);
	// chunked counts such transactions.
	holding bool
	chunked int

	// Resume state, kept across sources.
	pos     Position   // position after the last transaction read (sent, or pending until replicate returns)
	copying *copyState // tables still to copy; nil when not copying

	// Per-source state, reset by each attempt.
	src       Source
	source    SourceCheck // the source's settings, checked at connect
	flavor    string
	db        *sql.DB
	schema    *schemaCache
	plans     map[string]*tablePlan
	tmPlans   map[string]binlogPlan               // by table: the plan of its last TABLE_MAP event
	fieldSent map[string]*binlogdatapb.FieldEvent // by table: the FIELD event last sent
	reader    *binlogReader
	next      Position                // position after the transaction being read
	curMaria  mariaGTID               // GTID of the transaction being read (MariaDB)
	curGTID   string                  // GTID of the transaction being read (MySQL)
	history   *schemaHistory          // loaded from the source when a row needs it (history.go)
	lastDDL   string                  // GTID of the last DDL of the database the stream passed
	xa        map[string]*xaPrepared  // prepared XA transactions by xid, waiting for XA COMMIT
	journals  []*binlogdatapb.Journal // journals of the transaction being read (journal.go)
	tx        txState
	arena     rowArena // lengths and values of ROW events
	posBuf    []byte   // scratch for positionString
}

// errPick wraps a picker failure.
type errPick struct{ err error }

func (e *errPick) Error() string { return "pick source: " + e.err.Error() }
func (e *errPick) Unwrap() error { return e.err }

// run streams the shard until ctx ends or a non-retryable error.
func (s *shardStream) run(ctx context.Context) error {
	var exclude []string
	failures := 0
	for {
		before := s.sent
		err := s.attempt(ctx, exclude)
		if errors.Is(err, errJournalEnd) {
			s.log.Info("vstream shard ended at a resharding journal", "keyspace", s.ks, "shard", s.shard, "position", s.pos.String())
			return nil
		}
		var se *errSend
		if errors.As(err, &se) {
			return se.err // the client is gone: nothing to retry
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var fe *FilterError
		var ve *Error
		var pe *errPick
		if errors.As(err, &pe) && len(s.refused) > 0 {
			return s.noFitSource(pe.err)
		}
		if errors.As(err, &fe) || errors.As(err, &ve) {
			return err
		}
		if s.sent > before {
			failures = 0
		}
		failures++
		var ue *errUnfit
		switch {
		case errors.As(err, &pe):
			exclude = nil // every tablet was excluded or none is healthy: try them all again
		case errors.As(err, &ue):
			s.refused[ue.alias] = ue.reason
			exclude = append(exclude, ue.alias)
		case isPositionGone(err) && s.src.Alias != "":
			s.refused[s.src.Alias] = fmt.Sprintf("cannot serve position %s: %v", s.pos, err)
			exclude = append(exclude, s.src.Alias)
		case s.src.Alias != "":
			exclude = append(exclude, s.src.Alias)
		}
		if failures > s.m.cfg.MaxRetries {
			code := vtrpcpb.Code_UNAVAILABLE
			if errors.Is(err, errPositionUnavailable) {
				code = vtrpcpb.Code_FAILED_PRECONDITION
			}
			return &Error{Code: code, Err: fmt.Errorf("vtdirect: vstream %s/%s gave up after %d attempts at %s: %w", s.ks, s.shard, failures, s.pos, err)}
		}
		s.log.Warn("vstream source failed; re-picking", "keyspace", s.ks, "shard", s.shard, "tablet", s.src.Alias,
			"resume_position", s.pos.String(), "attempt", failures, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.m.cfg.RetryBackoff):
		}
	}
}

// noFitSource is the error that ends the stream once no tablet is left to pick and some were
// refused for their settings or for lacking the position: FAILED_PRECONDITION, naming each.
func (s *shardStream) noFitSource(pickErr error) error {
	if len(s.refused) == 0 {
		return nil
	}
	aliases := make([]string, 0, len(s.refused))
	for a := range s.refused {
		aliases = append(aliases, a)
	}
	slices.Sort(aliases)
	var b strings.Builder
	fmt.Fprintf(&b, "vtdirect: no tablet of %s/%s can serve this VStream", s.ks, s.shard)
	for _, a := range aliases {
		fmt.Fprintf(&b, "; %s: %s", a, s.refused[a])
	}
	if pickErr != nil {
		fmt.Fprintf(&b, "; and then: %v", pickErr)
	}
	return &Error{Code: vtrpcpb.Code_FAILED_PRECONDITION, Err: errors.New(b.String())}
}

// attempt streams from one source until it fails.
func (s *shardStream) attempt(ctx context.Context, exclude []string) error {
	req := s.req
	req.Exclude = exclude
	src, err := s.m.cfg.Picker.PickSource(ctx, req)
	if err != nil {
		s.src = Source{}
		return &errPick{err: err}
	}
	s.src = src
	s.log.Info("vstream source picked", "keyspace", s.ks, "shard", s.shard, "tablet", src.Alias, "position", s.pos.String())
	if hc, ok := s.m.cfg.Picker.(HealthChecker); ok {
		hctx, stop := s.watchHealth(ctx, hc)
		defer stop()
		err := s.streamFrom(hctx)
		var ue *errUnhealthy
		if errors.As(context.Cause(hctx), &ue) {
			return ue
		}
		return err
	}
	return s.streamFrom(ctx)
}

// streamFrom copies and streams from s.src until an error.
func (s *shardStream) streamFrom(ctx context.Context) error {
	var err error
	if err := s.connect(ctx); err != nil {
		return err
	}
	defer s.disconnect()
	if !s.source.Settings.FullRowMetadata() {
		if err := s.awaitHistory(ctx, s.current || s.copying != nil); err != nil {
			return err
		}
	}
	if s.copying != nil {
		if err := s.copyPhase(ctx); err != nil {
			return err
		}
	} else if s.current {
		if s.pos, err = s.currentPosition(ctx); err != nil {
			return err
		}
		// The binlog dump starts before the first events go out, so a client that has them
		// knows that its next commit is already on its way (nothing would be lost either way:
		// the dump starts at the position; but the first commits would wait for the dump).
		if err := s.startReader(ctx, true); err != nil {
			return err
		}
		if err := s.emit([]*binlogdatapb.VEvent{
			{Type: binlogdatapb.VEventType_GTID, Gtid: s.pos.String(), Keyspace: s.ks, Shard: s.shard},
			{Type: binlogdatapb.VEventType_OTHER, Keyspace: s.ks, Shard: s.shard},
		}); err != nil {
			return err
		}
		s.current = false
	}
	if s.reader == nil {
		if err := s.startReader(ctx, false); err != nil {
			return err
		}
	}
	return s.replicate(ctx, s.reader, Position{})
}

// connect opens the SQL pool to the source and resets per-source state.
func (s *shardStream) connect(ctx context.Context) error {
	cfg := mysql.NewConfig()
	cfg.User = s.m.cfg.User
	cfg.Passwd = s.m.cfg.Password
	cfg.Net = "tcp"
	cfg.Addr = s.src.Addr
	cfg.DBName = s.src.DBName
	cfg.TLS, cfg.AllowFallbackToPlaintext = backendconn.DriverTLS(s.m.cfg.TLSMode, s.m.cfg.TLSConfig, s.src.Addr)
	cfg.InterpolateParams = true
	cfg.Timeout = 5 * time.Second
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	s.db = sql.OpenDB(connector)
	s.db.SetMaxOpenConns(4)
	check, err := CheckSourceSettings(ctx, s.db, false)
	if err != nil {
		s.disconnect()
		return fmt.Errorf("connect to %s (%s): %w", s.src.Alias, s.src.Addr, err)
	}
	if !check.Fit() {
		s.disconnect()
		return &errUnfit{alias: s.src.Alias, reason: check.Reason()}
	}
	s.source = check
	s.flavor = flavorMariaDB
	if check.Flavor.Kind == flavor.MySQL {
		s.flavor = flavorMySQL
	}
	if !s.pos.IsZero() && s.pos.flavor != s.flavor {
		s.disconnect()
		return invalidArg("position %s does not fit source %s, a %s server", s.pos, s.src.Alias, s.flavor)
	}
	s.schema = newSchemaCache(s.db, s.src.DBName)
	s.plans = make(map[string]*tablePlan)
	s.tmPlans = make(map[string]binlogPlan)
	s.fieldSent = make(map[string]*binlogdatapb.FieldEvent)
	s.tx = txState{}
	return nil
}

func (s *shardStream) disconnect() {
	s.reader.close()
	s.reader = nil
	if s.db != nil {
		_ = s.db.Close()
		s.db = nil
	}
}

func (s *shardStream) currentPosition(ctx context.Context) (Position, error) {
	var set string
	if err := s.db.QueryRowContext(ctx, s.source.Flavor.PositionQuery()).Scan(&set); err != nil {
		return Position{}, err
	}
	return ParsePosition(s.source.Flavor.Position(set))
}

// emit sends one batch (whole transactions) to the client now.
func (s *shardStream) emit(evs []*binlogdatapb.VEvent) error {
	if batchSize(evs) > s.m.cfg.MaxResponseBytes || len(evs) > s.m.cfg.MaxResponseEvents {
		return s.emitSplit(evs)
	}
	if err := s.queue(evs); err != nil {
		return err
	}
	return s.flush()
}

// queue adds whole transactions to the pending response, sending it once it reaches the
// response bounds (a transaction is never split, so a response may pass them by one).
func (s *shardStream) queue(evs []*binlogdatapb.VEvent) error {
	if s.copying != nil {
		// Now, while s.pos is this transaction's position.
		s.attachCopyState(evs)
	}
	n := batchSize(evs)
	if len(s.pending) > 0 && s.pendingBytes+n > s.m.cfg.MaxResponseBytes {
		if err := s.flush(); err != nil { // keep the response within the packet size
			return err
		}
	}
	s.pending = append(s.pending, evs...)
	s.pendingBytes += n
	if len(s.pending) >= s.m.cfg.MaxResponseEvents || s.pendingBytes >= s.m.cfg.MaxResponseBytes {
		return s.flush()
	}
	return nil
}

// flush sends the pending transactions as one response. It sends from this goroutine (no
// hand-off to a sender goroutine: one wake-up less per lone transaction), serialized with
// the other shards and the heartbeats by the sendState.
func (s *shardStream) flush() error {
	if len(s.pending) == 0 {
		return nil
	}
	var err error
	if s.holding {
		err = s.st.deliverLocked(s.pending)
	} else {
		err = s.st.deliver(s.pending)
	}
	clear(s.pending) // the response has its own slice: drop the references for the GC
	s.pending, s.pendingBytes = s.pending[:0], 0
	if err != nil {
		return &errSend{err: err}
	}
	s.sent++
	return nil
}

// errSend is a failure to send to the client: it ends the stream, no retry.
type errSend struct{ err error }

func (e *errSend) Error() string { return "send to client: " + e.err.Error() }
func (e *errSend) Unwrap() error { return e.err }

// attachCopyState turns the batch's GTID event into an (internal) LASTPK event whose Vgtid
// holds the shard's whole copy progress, so that a resumed stream copies exactly what is left.
func (s *shardStream) attachCopyState(evs []*binlogdatapb.VEvent) {
	for i, ev := range evs {
		if ev.Type != binlogdatapb.VEventType_GTID && ev.Type != binlogdatapb.VEventType_LASTPK {
			continue
		}
		sg := &binlogdatapb.ShardGtid{Keyspace: s.ks, Shard: s.shard, Gtid: s.pos.String()}
		for _, name := range s.copying.order {
			t := s.copying.tables[name]
			if ev.LastPKEvent != nil && ev.LastPKEvent.Completed && ev.LastPKEvent.TableLastPK.TableName == name {
				continue
			}
			tl := &binlogdatapb.TableLastPK{TableName: name}
			if ev.LastPKEvent != nil && ev.LastPKEvent.TableLastPK.TableName == name {
				tl.Lastpk = ev.LastPKEvent.TableLastPK.Lastpk
			} else if t.started && t.lastpk != nil {
				tl.Lastpk = s.lastPKResult(name, t)
			}
			sg.TablePKs = append(sg.TablePKs, tl)
		}
		evs[i] = &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_LASTPK, LastPKEvent: ev.LastPKEvent,
			Vgtid: &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{sg}}, Keyspace: s.ks, Shard: s.shard}
	}
}

func (s *shardStream) tableName(t string) string {
	if s.excludeK {
		return t
	}
	return s.ks + "." + t
}

// errUnhealthy ends an attempt whose source the HealthChecker rejected.
type errUnhealthy struct{ err error }

func (e *errUnhealthy) Error() string { return "source unhealthy: " + e.err.Error() }
func (e *errUnhealthy) Unwrap() error { return e.err }

// watchHealth polls hc about the current source and cancels the returned context (cause
// errUnhealthy) when it objects. stop ends the poller and waits for it.
func (s *shardStream) watchHealth(ctx context.Context, hc HealthChecker) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	src := s.src
	go func() {
		defer close(done)
		t := time.NewTicker(s.m.cfg.HealthInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := hc.CheckSource(ctx, src); err != nil && ctx.Err() == nil {
					cancel(&errUnhealthy{err: err})
					return
				}
			}
		}
	}()
	return ctx, func() {
		cancel(nil)
		<-done
	}
}
