package router

// Sharded keyspaces: statements whose target is a keyspace whose vschema says it is sharded
// (and that name no shard) are planned by package planner and executed here. The executor
// reaches this file through a few marked hooks (shardedHook in ComQuery, ComFieldList,
// ComStmtPrepare and ComStmtExecute; shardedClosed, shardedReset and shardedKill where a
// session ends, resets or is killed); unsharded keyspaces never get here and keep the
// pass-through path.
//
// One-shard statements run on the executor's own path (run.go) with the session's target
// narrowed to that shard for the statement (sharded_run.go): the reply is forwarded as is,
// with every session rule (settings, reserved connections, per-connection results). A
// statement on several shards runs on each shard at once, in a goroutine per shard that
// forwards the shard's reply into a collector, and package engine merges the replies
// (sharded_scatter.go). A transaction keeps one connection per shard it reached
// (sharded_session.go), committed shard by shard.

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/vindex"
	"github.com/vtdirect/vtdirect/vschema"
)

// VSchemaSource gives the current vschema of every keyspace (a vschema.Watcher).
type VSchemaSource interface {
	VSchema() *vschema.VSchema
}

var _ VSchemaSource = (*vschema.Watcher)(nil)

// Transaction modes (vtgate's --transaction-mode).
const (
	TxModeSingle = "single"
	TxModeMulti  = "multi"
)

// shardedExec is the executor's part for sharded keyspaces.
type shardedExec struct {
	vs      VSchemaSource
	planner *planner.Planner
	txMode  string
	log     *slog.Logger

	shards atomic.Pointer[shardIndex] // key ranges of the snapshot's shards
	pads   padCache
}

func newShardedExec(cfg Config) (*shardedExec, error) {
	p, err := planner.New(planner.Config{CacheSize: cfg.PlanCacheSize})
	if err != nil {
		return nil, err
	}
	mode := cfg.TransactionMode
	if mode == "" {
		mode = TxModeMulti
	}
	if !planner.TransactionModes[mode] {
		return nil, fmt.Errorf("router: transaction mode %q: use single or multi", mode)
	}
	return &shardedExec{vs: cfg.VSchema, planner: p, txMode: mode, log: cfg.Logger}, nil
}

// vschema is the current vschema (an empty one without a source).
func (x *shardedExec) vschema() *vschema.VSchema {
	if x == nil || x.vs == nil {
		return emptyVSchema
	}
	return x.vs.VSchema()
}

var emptyVSchema = vschema.Build(nil)

// shardedTarget reports whether the session's statements go through the planner: its target
// is a sharded keyspace and names no shard.
func (e *Executor) shardedTarget(s *Session) bool {
	if !s.hasTarget || s.target.Shard != "" || e.sharded == nil {
		return false
	}
	return e.sharded.vschema().Sharded(s.target.Keyspace)
}

// shardIndex is the shards of every keyspace in one registry snapshot, with their key
// ranges, rebuilt when the snapshot changes.
type shardIndex struct {
	snap *discovery.Snapshot
	mu   sync.Mutex // guards byKs
	byKs map[string][]vindex.Shard
}

// keyspaceShards returns a keyspace's shards with tablets, in key order.
func (e *Executor) keyspaceShards(snap *discovery.Snapshot, ks string) ([]vindex.Shard, error) {
	idx := e.sharded.shards.Load()
	if idx == nil || idx.snap != snap {
		idx = &shardIndex{snap: snap, byKs: map[string][]vindex.Shard{}}
		e.sharded.shards.Store(idx)
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if out, ok := idx.byKs[ks]; ok {
		return out, nil
	}
	var out []vindex.Shard
	for _, sh := range snap.Shards(ks) {
		kr, err := vindex.ParseShard(sh.Name)
		if err != nil {
			return nil, errUnavailable("keyspace %s: %v", ks, err)
		}
		out = append(out, vindex.Shard{Name: sh.Name, Range: kr})
	}
	idx.byKs[ks] = out
	return out, nil
}

// shardOf returns the shard holding a keyspace id.
func (e *Executor) shardOf(snap *discovery.Snapshot, ks string, ksid []byte) (string, error) {
	shards, err := e.keyspaceShards(snap, ks)
	if err != nil {
		return "", err
	}
	i := vindex.ShardFor(shards, ksid)
	if i < 0 {
		return "", errUnavailable("no shard of keyspace %s holds keyspace id %x (the shards do not cover the key range); check `vtdirect topo show`", ks, ksid)
	}
	return shards[i].Name, nil
}

// errNotSupported is a refusal with 1235, as the planner's.
func errNotSupported(format string, args ...any) error {
	return &mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000", Message: "vtdirect: " + fmt.Sprintf(format, args...)}
}

// shardedHook is where the executor hands a statement of a sharded target to this file
// (ComQuery, after the statements the gateway answers itself). It also answers SHOW VSCHEMA
// on any target, as vtgate does. handled false: the executor goes on as for an unsharded
// target.
func (e *Executor) shardedHook(c *mysqlserver.Conn, s *Session, cmd *mysqlserver.Command, q *query) (bool, error) {
	if e.sharded == nil {
		return false, nil
	}
	if !e.shardedTarget(s) {
		if q.kind == classify.KindShow && !q.multi && isShowVSchema(cmd.Payload()[1:]) {
			return true, e.showVSchemaUnsharded(c, s, cmd.Payload()[1:])
		}
		return false, nil
	}
	return true, e.shardedQuery(c, s, cmd, q)
}
