package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/topo"
)

// ClusterConfig describes an in-process cluster for integration tests: MariaDB servers with
// replication and an embedded etcd holding the topology, all owned by this process (they die
// with it). The demo's `vtdirect local up` runs the same layout as detached processes instead.
type ClusterConfig struct {
	// Dir holds every server's files (t.TempDir()). Required.
	Dir string
	// Layout defaults to DemoLayout with every MySQL port 0 (free ports), so clusters of tests
	// running in parallel do not collide.
	Layout *Layout
	// User and Password of the MariaDB account (default app/app).
	User, Password string
	// DBAUser and DBAPassword of the admin account (default vt_dba/vt_dba): replication and
	// failover use it.
	DBAUser, DBAPassword string
	// SampleData loads the sample commerce tables and rows; otherwise the database is empty.
	SampleData bool
	// MariaDBArgs are extra mariadbd arguments for every server.
	MariaDBArgs []string
	Logger      *slog.Logger
}

// Cluster is a running in-process cluster. Close stops it.
type Cluster struct {
	Layout Layout
	Etcd   *Etcd
	// Topo is connected to the etcd's global root; Close closes it.
	Topo *topo.Server

	cfg ClusterConfig
	log *slog.Logger

	mu      sync.Mutex // guards tablets
	tablets []*ClusterTablet
}

// ClusterTablet is one tablet of a Cluster: its spec, its MariaDB and its topo record.
type ClusterTablet struct {
	Spec    TabletSpec
	MariaDB *MariaDB
	Record  *topodatapb.Tablet
}

// Alias is the tablet alias, e.g. "zone1-100".
func (t *ClusterTablet) Alias() string { return t.Spec.Alias() }

// StartCluster starts etcd, every tablet's MariaDB (in parallel), replication from the primary,
// the backend database (with sample data if asked) and the topo records. On error everything
// started is stopped.
//
//	c, err := local.StartCluster(ctx, local.ClusterConfig{Dir: t.TempDir()})
//	if err != nil { t.Fatal(err) }
//	t.Cleanup(c.Close)
//	// gateway flags: --topo-addr c.TopoAddr() --topo-root c.Layout.GlobalRoot --cell zone1
func StartCluster(ctx context.Context, cfg ClusterConfig) (c *Cluster, err error) {
	if cfg.Dir == "" {
		return nil, errors.New("start cluster: ClusterConfig.Dir is empty")
	}
	if cfg.Layout == nil {
		l := DemoLayout()
		for i := range l.Tablets {
			l.Tablets[i].MySQLPort = 0
		}
		cfg.Layout = &l
	}
	if err := cfg.Layout.Validate(); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	if cfg.User == "" {
		cfg.User, cfg.Password = "app", "app"
	}
	if cfg.DBAUser == "" {
		cfg.DBAUser, cfg.DBAPassword = DefaultDBAUser, DefaultDBAPassword
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c = &Cluster{Layout: *cfg.Layout, cfg: cfg, log: log}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()

	if c.Etcd, err = StartEtcd(filepath.Join(cfg.Dir, "etcd"), 0, 0, log); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	if c.Topo, err = topo.Open(ctx, topo.ImplEtcd, c.Etcd.Endpoint(), c.Layout.GlobalRoot); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}

	tablets := make([]*ClusterTablet, len(c.Layout.Tablets))
	g, gctx := errgroup.WithContext(ctx)
	for i, spec := range c.Layout.Tablets {
		g.Go(func() error {
			t, err := c.startTablet(gctx, spec)
			tablets[i] = t
			return err
		})
	}
	err = g.Wait()
	c.mu.Lock()
	for _, t := range tablets {
		if t != nil {
			c.tablets = append(c.tablets, t)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}

	primary := c.Primary()
	var replicas []*MariaDB
	for _, t := range c.Tablets() {
		if t != primary {
			replicas = append(replicas, t.MariaDB)
		}
	}
	if err := SetupReplication(ctx, primary.MariaDB, replicas...); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	if cfg.SampleData {
		err = LoadSampleSchema(ctx, primary.MariaDB.DSN(""), c.Layout.DBName)
	} else {
		err = CreateDatabase(ctx, primary.MariaDB.DSN(""), c.Layout.DBName)
	}
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	// Wait for the database to reach the replicas, so a test may read from them at once.
	for _, r := range replicas {
		if err := WaitCaughtUp(ctx, primary.MariaDB, r); err != nil {
			return nil, fmt.Errorf("start cluster: %w", err)
		}
	}
	var recs []*topodatapb.Tablet
	for _, t := range c.Tablets() {
		recs = append(recs, t.Record)
	}
	if err := WriteTopo(ctx, c.Topo, c.Layout, c.Etcd.Endpoint(), recs); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	return c, nil
}

// startTablet starts the MariaDB of spec and builds its record (not yet in the topo).
func (c *Cluster) startTablet(ctx context.Context, spec TabletSpec) (*ClusterTablet, error) {
	m, err := StartMariaDB(ctx, MariaDBConfig{
		Dir:         filepath.Join(c.cfg.Dir, spec.Alias()),
		Port:        spec.MySQLPort,
		ServerID:    spec.UID,
		User:        c.cfg.User,
		Password:    c.cfg.Password,
		DBAUser:     c.cfg.DBAUser,
		DBAPassword: c.cfg.DBAPassword,
		FenceUser:   true, // failover's read_only must stop the gateway's writes
		Logger:      c.log.With("tablet", spec.Alias()),
		ExtraArgs:   c.cfg.MariaDBArgs,
	})
	if err != nil {
		return nil, err
	}
	rec, err := c.Layout.TabletRecord(spec, m.Port())
	if err != nil {
		m.Kill()
		return nil, err
	}
	return &ClusterTablet{Spec: spec, MariaDB: m, Record: rec}, nil
}

// AddTablet starts a new replica-type tablet (spec.Type must not be PRIMARY) replicating from
// the primary, waits until it has caught up, and then adds its topo record: a gateway watching
// the topo sees a tablet that is ready.
func (c *Cluster) AddTablet(ctx context.Context, spec TabletSpec) (*ClusterTablet, error) {
	if spec.Type == topodatapb.TabletType_PRIMARY {
		return nil, errors.New("add tablet: only replica and rdonly tablets can be added")
	}
	if c.Tablet(spec.Alias()) != nil {
		return nil, fmt.Errorf("add tablet: %s already exists", spec.Alias())
	}
	t, err := c.startTablet(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("add tablet %s: %w", spec.Alias(), err)
	}
	primary := c.Primary().MariaDB
	err = SetupReplication(ctx, primary, t.MariaDB)
	if err == nil {
		err = WaitCaughtUp(ctx, primary, t.MariaDB)
	}
	if err == nil {
		err = PutTablet(ctx, c.Topo, t.Record)
	}
	if err != nil {
		t.MariaDB.Kill()
		return nil, fmt.Errorf("add tablet %s: %w", spec.Alias(), err)
	}
	c.mu.Lock()
	c.tablets = append(c.tablets, t)
	c.Layout.Tablets = append(c.Layout.Tablets, spec)
	c.mu.Unlock()
	return t, nil
}

// RemoveTablet deletes a tablet's topo record, then stops its MariaDB.
func (c *Cluster) RemoveTablet(ctx context.Context, alias string) error {
	t := c.Tablet(alias)
	if t == nil {
		return fmt.Errorf("remove tablet: no tablet %s", alias)
	}
	if err := c.Topo.DeleteTablet(ctx, t.Record.Alias); err != nil {
		return fmt.Errorf("remove tablet %s: %w", alias, err)
	}
	c.mu.Lock()
	c.tablets = slices.DeleteFunc(c.tablets, func(x *ClusterTablet) bool { return x == t })
	c.Layout.Tablets = slices.DeleteFunc(slices.Clone(c.Layout.Tablets), func(s TabletSpec) bool { return s.Alias() == alias })
	c.mu.Unlock()
	return t.MariaDB.Stop(ctx)
}

// Tablets returns the tablets in layout order.
func (c *Cluster) Tablets() []*ClusterTablet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*ClusterTablet(nil), c.tablets...)
}

// Tablet returns the tablet with the given alias ("zone1-101"), or nil.
func (c *Cluster) Tablet(alias string) *ClusterTablet {
	for _, t := range c.Tablets() {
		if t.Alias() == alias {
			return t
		}
	}
	return nil
}

// Primary returns the PRIMARY tablet.
func (c *Cluster) Primary() *ClusterTablet {
	for _, t := range c.Tablets() {
		if t.Spec.Type == topodatapb.TabletType_PRIMARY {
			return t
		}
	}
	return nil
}

// TopoAddr is the etcd client address for --topo-addr.
func (c *Cluster) TopoAddr() string { return c.Etcd.Endpoint() }

// User and Password of the MariaDB account on every tablet.
func (c *Cluster) User() string     { return c.cfg.User }
func (c *Cluster) Password() string { return c.cfg.Password }

// DBAUser and DBAPassword of the admin account on every tablet (failover's --db-dba-user).
func (c *Cluster) DBAUser() string     { return c.cfg.DBAUser }
func (c *Cluster) DBAPassword() string { return c.cfg.DBAPassword }

// Close stops every MariaDB (killing them: test data does not need a clean shutdown), the topo
// connection and etcd. Safe to call more than once.
func (c *Cluster) Close() {
	var wg sync.WaitGroup
	for _, t := range c.Tablets() {
		wg.Add(1)
		go func() { defer wg.Done(); t.MariaDB.Kill() }()
	}
	wg.Wait()
	if c.Topo != nil {
		c.Topo.Close()
	}
	if c.Etcd != nil {
		c.Etcd.Close()
	}
}

// RebuildTablet replaces a tablet's MariaDB with an empty one (same directory, port and
// server id): what an operator does for a tablet that failover took out of service because
// it holds transactions the shard lost. It returns the tablet's record to REPLICA, without the
// reason tag; failover then repoints the empty server, which copies everything from the
// primary's binlog. Not safe while other goroutines use the tablet's MariaDB.
func (c *Cluster) RebuildTablet(ctx context.Context, alias string) error {
	t := c.Tablet(alias)
	if t == nil {
		return fmt.Errorf("rebuild tablet: no tablet %s", alias)
	}
	old := t.MariaDB
	old.Kill()
	if err := os.RemoveAll(old.Dir()); err != nil {
		return fmt.Errorf("rebuild tablet %s: %w", alias, err)
	}
	m, err := StartMariaDB(ctx, old.cfg)
	if err != nil {
		return fmt.Errorf("rebuild tablet %s: %w", alias, err)
	}
	c.mu.Lock()
	t.MariaDB = m
	c.mu.Unlock()
	// The tag failover writes when it takes a tablet out of service (failover.RebuildTag).
	if _, err := c.Topo.ChangeTabletType(ctx, t.Record.Alias, topodatapb.TabletType_REPLICA, time.Time{}, map[string]string{"vtdirect_needs_rebuild": ""}); err != nil {
		return fmt.Errorf("rebuild tablet %s: %w", alias, err)
	}
	return nil
}
