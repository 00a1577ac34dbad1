package consultopo

// The key/value part of the Consul backend, key for key compatible with Vitess's consultopo
// (vitess.io/vitess/go/vt/topo/consultopo): a file is the Consul KV key path.Join(root, path)
// without a leading '/', its contents the value, its Version the key's ModifyIndex. Writes
// that must say what happened (created? which version?) are KV transactions, like Vitess's.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/vtdirect/vtdirect/topo"
)

// ModifyIndex is the Version of a Consul key: its ModifyIndex (Vitess's ConsulVersion).
type ModifyIndex uint64

// String is part of topo.Version.
func (v ModifyIndex) String() string { return fmt.Sprint(uint64(v)) }

// Conn is a topo.Conn (with locks and leader election) on one root of a Consul cluster,
// through one Consul agent's HTTP API.
type Conn struct {
	client *api.Client
	kv     *api.KV
	addr   string // the agent's address, for messages
	root   string // cleaned, without the leading '/': Consul keys have none, e.g. "vitess/global"
	prefix string // root + "/" ("" for the whole key space)
	cfg    Config

	// life ends when the Conn closes: every request and goroutine of the Conn runs under it.
	life      context.Context
	closeLife context.CancelFunc
	closeOnce sync.Once
	workers   sync.WaitGroup // watch, renew and observe goroutines; Close waits for them
}

var (
	_ topo.Conn    = (*Conn)(nil)
	_ topo.Locker  = (*Conn)(nil)
	_ topo.Elector = (*Conn)(nil)
)

// Config says how a Conn talks to Consul. The zero value of every field but Addr and Root is
// a working default.
type Config struct {
	// Addr is the Consul agent's HTTP address: host:port, or http(s)://host:port.
	Addr string
	// Root is the Conn's root, e.g. "vitess/global" (a leading '/' is ignored: Consul keys
	// have none, and Vitess's consul roots are written without it).
	Root string
	// Token is the ACL token; empty: the CONSUL_HTTP_TOKEN environment variable, as the consul
	// CLI does.
	Token string
	// LockDelay is Consul's lock-delay of the sessions behind locks and elections: after a
	// holder's session is invalidated (not released), nobody can take the lock for this long,
	// so that a holder that did not yet notice has time to stop. Default 1s (Consul's own
	// default, 15s, slows failovers).
	LockDelay time.Duration
	// WatchWait is how long one blocking query of a watch waits before it is re-issued
	// (Consul caps it at 10 minutes). Default 30s, like Vitess's consul watch.
	WatchWait time.Duration
	// RetryInterval is how long a watch waits before asking again after an error (the agent is
	// down or restarting); it doubles up to 10 times this. Default 250ms.
	RetryInterval time.Duration
}

func (c *Config) validate() error {
	if c.Addr == "" || strings.Contains(c.Addr, ",") {
		return fmt.Errorf("topo: %w: consul address %q: pass one Consul agent's HTTP address, e.g. --topo-addr 127.0.0.1:8500", topo.ErrInvalid, c.Addr)
	}
	if c.Root == "" {
		return fmt.Errorf("topo: %w: empty topo root; pass e.g. --topo-root vitess/global", topo.ErrInvalid)
	}
	if c.LockDelay <= 0 {
		c.LockDelay = time.Second
	}
	if c.WatchWait <= 0 {
		c.WatchWait = 30 * time.Second
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 250 * time.Millisecond
	}
	return nil
}

// dialTimeout bounds how long Dial waits for the agent's first answer.
const dialTimeout = 5 * time.Second

// Dial returns a Conn on cfg.Root of the Consul agent at cfg.Addr, after checking that the
// agent answers and has a cluster leader, so a wrong address fails here with a clear error.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	c, err := NewConn(cfg)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if _, _, err := c.kv.Keys(c.prefix, "/", c.query(pctx)); err != nil {
		c.Close()
		return nil, fmt.Errorf("topo: consul at %s does not answer (%w); is it running? pass the right --topo-addr", c.addr, err)
	}
	return c, nil
}

// NewConn returns a Conn without waiting for the agent: a cell whose server is down shows up
// as errors naming it on first use.
func NewConn(cfg Config) (*Conn, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	root, err := topo.JoinKey("/"+strings.TrimPrefix(cfg.Root, "/"), "")
	if err != nil {
		return nil, err
	}
	root = strings.TrimPrefix(root, "/")
	acfg := api.DefaultConfig()
	acfg.Address = cfg.Addr
	if cfg.Token != "" {
		acfg.Token = cfg.Token
	}
	client, err := api.NewClient(acfg)
	if err != nil {
		return nil, fmt.Errorf("topo: consul client for %s: %w", cfg.Addr, err)
	}
	prefix := root
	if prefix != "" {
		prefix += "/"
	}
	life, closeLife := context.WithCancel(context.Background())
	return &Conn{
		client: client, kv: client.KV(), addr: cfg.Addr, root: root, prefix: prefix, cfg: cfg,
		life: life, closeLife: closeLife,
	}, nil
}

// Root returns the Conn's root as a Consul key prefix (no leading '/'); errors name full keys
// with it.
func (c *Conn) Root() string { return c.root }

// Client returns the Consul API client.
func (c *Conn) Client() *api.Client { return c.client }

// Close ends the watches, stops renewing the sessions of held locks and leaderships (they
// expire after their TTL, as if this process had died: release them first for a prompt
// hand-over) and waits for the Conn's goroutines.
func (c *Conn) Close() {
	c.closeOnce.Do(c.closeLife)
	c.workers.Wait()
}

func (c *Conn) closed() bool { return c.life.Err() != nil }

// key maps a relative path to the Consul key, refusing to work once closed.
func (c *Conn) key(p string) (string, error) {
	k, err := topo.JoinKey("/"+c.root, p)
	if err != nil {
		return "", err
	}
	k = strings.TrimPrefix(k, "/")
	if c.closed() {
		return "", &topo.KeyError{Key: k, Err: topo.ErrClosed}
	}
	return k, nil
}

// dirPrefix is the key prefix of everything below dir, ending in '/' ("" for the whole root "/").
func (c *Conn) dirPrefix(dir string) (string, error) {
	k, err := c.key(dir)
	if err != nil {
		return "", err
	}
	if k == "" {
		return "", nil
	}
	return k + "/", nil
}

// query returns query options bound to ctx (callers bind ctx to the Conn's life with bound).
func (c *Conn) query(ctx context.Context) *api.QueryOptions {
	return (&api.QueryOptions{}).WithContext(ctx)
}

// bound returns a context that ends with ctx or when the Conn closes.
func (c *Conn) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.life, cancel)
	return ctx, func() { stop(); cancel() }
}

// convertError names the key and the agent for failures of the Consul client; a Conn closed
// meanwhile reports ErrClosed.
func (c *Conn) convertError(key string, err error) error {
	if c.closed() && errors.Is(err, context.Canceled) {
		return &topo.KeyError{Key: key, Err: topo.ErrClosed}
	}
	return &topo.KeyError{Key: key, Err: fmt.Errorf("consul %s: %w", c.addr, err)}
}

// fatalStatus reports whether err is an answer from Consul that asking again will not change
// (bad request, ACL denied), as opposed to a server or network failure.
func fatalStatus(err error) bool {
	var se api.StatusError
	if errors.As(err, &se) {
		return se.Code >= 400 && se.Code < 500 && se.Code != http.StatusTooManyRequests
	}
	return false
}

// txn runs KV operations in one transaction. ok is false when Consul rolled it back; then
// failed is the index of the first operation that failed.
func (c *Conn) txn(ctx context.Context, key string, ops api.KVTxnOps) (ok bool, failed int, resp *api.KVTxnResponse, err error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	ok, resp, _, err = c.kv.Txn(ops, c.query(ctx))
	if err != nil {
		return false, 0, nil, c.convertError(key, err)
	}
	if !ok {
		if resp == nil || len(resp.Errors) == 0 {
			return false, 0, nil, c.convertError(key, errors.New("transaction rolled back without a reason"))
		}
		return false, resp.Errors[0].OpIndex, resp, nil
	}
	return true, 0, resp, nil
}

// modifyIndex returns the ModifyIndex of result i of a transaction.
func modifyIndex(resp *api.KVTxnResponse, i int) topo.Version {
	if resp != nil && i < len(resp.Results) && resp.Results[i] != nil {
		return ModifyIndex(resp.Results[i].ModifyIndex)
	}
	return ModifyIndex(0)
}

// indexOf returns v as a ModifyIndex, or ErrBadVersion naming key for another backend's version.
func indexOf(key string, v topo.Version) (uint64, error) {
	i, ok := v.(ModifyIndex)
	if !ok {
		return 0, &topo.KeyError{Key: key, Err: fmt.Errorf("%w: version %v (%T) is not a Consul ModifyIndex", topo.ErrBadVersion, v, v)}
	}
	return uint64(i), nil
}

// Create is part of topo.Conn: a check-and-set at index 0 succeeds only if the key is absent.
func (c *Conn) Create(ctx context.Context, p string, data []byte) (topo.Version, error) {
	k, err := c.key(p)
	if err != nil {
		return nil, err
	}
	ok, _, resp, err := c.txn(ctx, k, api.KVTxnOps{{Verb: api.KVCAS, Key: k, Value: data, Index: 0}})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &topo.KeyError{Key: k, Err: topo.ErrNodeExists}
	}
	return modifyIndex(resp, 0), nil
}

// Update is part of topo.Conn. A conditional update reads the key in the same transaction, to
// tell a missing key from a stale version.
func (c *Conn) Update(ctx context.Context, p string, data []byte, v topo.Version) (topo.Version, error) {
	k, err := c.key(p)
	if err != nil {
		return nil, err
	}
	if v == nil {
		_, _, resp, err := c.txn(ctx, k, api.KVTxnOps{{Verb: api.KVSet, Key: k, Value: data}})
		if err != nil {
			return nil, err
		}
		return modifyIndex(resp, 0), nil
	}
	idx, err := indexOf(k, v)
	if err != nil {
		return nil, err
	}
	ok, failed, resp, err := c.txn(ctx, k, api.KVTxnOps{
		{Verb: api.KVGet, Key: k},
		{Verb: api.KVCAS, Key: k, Value: data, Index: idx},
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, c.failedOp(k, failed)
	}
	return modifyIndex(resp, 1), nil
}

// failedOp explains a rolled back [get, conditional write] transaction.
func (c *Conn) failedOp(k string, failed int) error {
	if failed == 0 {
		return &topo.KeyError{Key: k, Err: topo.ErrNoNode}
	}
	return &topo.KeyError{Key: k, Err: topo.ErrBadVersion}
}

// Get is part of topo.Conn.
func (c *Conn) Get(ctx context.Context, p string) ([]byte, topo.Version, error) {
	k, err := c.key(p)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	pair, _, err := c.kv.Get(k, c.query(ctx))
	if err != nil {
		return nil, nil, c.convertError(k, err)
	}
	if pair == nil {
		return nil, nil, &topo.KeyError{Key: k, Err: topo.ErrNoNode}
	}
	return pair.Value, ModifyIndex(pair.ModifyIndex), nil
}

// Delete is part of topo.Conn: [get, delete] in one transaction, to report a missing key.
func (c *Conn) Delete(ctx context.Context, p string, v topo.Version) error {
	k, err := c.key(p)
	if err != nil {
		return err
	}
	del := &api.KVTxnOp{Verb: api.KVDelete, Key: k}
	if v != nil {
		idx, err := indexOf(k, v)
		if err != nil {
			return err
		}
		del = &api.KVTxnOp{Verb: api.KVDeleteCAS, Key: k, Index: idx}
	}
	ok, failed, _, err := c.txn(ctx, k, api.KVTxnOps{{Verb: api.KVGet, Key: k}, del})
	if err != nil {
		return err
	}
	if !ok {
		return c.failedOp(k, failed)
	}
	return nil
}

// ListDir is part of topo.Conn: Consul lists the keys and sub-prefixes one level below a
// prefix when asked with the '/' separator.
func (c *Conn) ListDir(ctx context.Context, dir string) ([]string, error) {
	prefix, err := c.dirPrefix(dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	keys, _, err := c.kv.Keys(prefix, "/", c.query(ctx))
	if err != nil {
		return nil, c.convertError(prefix, err)
	}
	if len(keys) == 0 {
		return nil, &topo.KeyError{Key: prefix, Err: topo.ErrNoNode}
	}
	return topo.ChildNames(prefix, keys), nil
}
