// Package local starts the servers of a local vtdirect cluster: MariaDB instances with GTID
// replication, an embedded etcd for the topo, and the demo cluster of `vtdirect local up`.
// Integration tests of every package start their servers with it too, so tests and the demo run
// the same launcher.
//
// It owns: running mariadbd (initialising a data dir, an option file with the settings a change
// stream needs, start, clean stop, crash, restart), wiring replicas to a primary, running etcd
// in-process, writing a cluster's topology and sample schema, and the detached processes of
// `vtdirect local` (pid files, liveness, clean stop). It does not own the gateway, the topo
// record format (package topo) nor replica-status parsing for routing (package flavor): the
// little it reads of SHOW SLAVE STATUS is for waiting and for `local status`. It never parses
// flags: cmd/vtdirect/local.go turns flags into a DemoConfig.
//
// # Three levels
//
//   - Servers: StartMariaDB, SetupReplication (+ ChangePrimary, WaitReplicating, WaitCaughtUp),
//     StartEtcd, FreePort. A MariaDB started for a test is in its own process group and is
//     killed if the test process dies; one started for the demo (Detached) outlives it.
//   - Clusters for tests: StartCluster starts etcd and the tablets of a Layout (DemoLayout by
//     default, on free ports) in this process, with replication, the backend database (and
//     the sample data if asked) and the topo records, and returns a *Cluster with handles to
//     everything; AddTablet/RemoveTablet change it while a gateway runs.
//   - The demo: Up, Down, Status run DemoLayout as detached processes with files in one
//     directory (cluster.json records what was started; pid files say what runs).
//
// # MariaDB instances
//
// Data dirs are copies of a template made once per machine with mariadb-install-db (in the temp
// dir, keyed by the MariaDB binary), so a new instance starts in a fraction of a second. Each
// instance keeps all its files in its Dir: my.cnf, data/, binlog.*, relay-bin.*, error.log,
// mariadbd.pid and mysql.sock (or a short path in the temp dir when Dir is too long for a unix
// socket). root has no password and can log in over the unix socket only; the configured user
// has every privilege from '%' and 'localhost' (including replication; on a standalone server
// READ_ONLY ADMIN too, so its tests can write although it boots read-only; in a cluster not,
// FenceUser: read_only stops its writes, which is how failover fences a demoted primary, and
// only the admin user changes read_only). With LeastPrivilege (the demo of `vtdirect local up`)
// the configured user has only AppPrivileges, the data path's, on the server's keyspace
// databases (AppDatabases) and nothing on *.*, and replication (vt_repl: REPLICATION SLAVE)
// and change streams (vt_filtered: FilteredPrivileges, SELECT on the same databases) get users
// of their own; the admin (vt_dba) keeps every privilege. `local up` grants them again on
// servers already running, so a cluster made by an older version gets these grants. Replicas replicate with MASTER_USE_GTID=slave_pos and MASTER_CONNECT_RETRY=1,
// and keep read_only=ON across restarts.
//
// # Example: a gateway integration test
//
//	c, err := local.StartCluster(ctx, local.ClusterConfig{Dir: t.TempDir(), SampleData: true})
//	if err != nil {
//		t.Fatal(err) // also when MariaDB is missing: never skip
//	}
//	t.Cleanup(c.Close)
//	// the gateway: topo.Open(ctx, topo.ImplEtcd, c.TopoAddr(), c.Layout.GlobalRoot) or use
//	// c.Topo; cell "zone1"; backend user c.User()/c.Password()
//	primary := c.Primary().MariaDB              // *MariaDB: DSN, Kill, Start, Stop
//	replica := c.Tablet("zone1-101").MariaDB
//	db, err := sql.Open("mysql", replica.DSN("commerce")) // straight to a tablet
//
// # Example: single servers
//
//	primary, err := local.StartMariaDB(ctx, local.MariaDBConfig{
//		Dir: t.TempDir(), ServerID: 1, User: "app", Password: "app"}) // Port 0: a free port
//	replica, err := local.StartMariaDB(ctx, local.MariaDBConfig{
//		Dir: t.TempDir(), ServerID: 2, User: "app", Password: "app"})
//	err = local.SetupReplication(ctx, primary, replica) // replica read-only, replicating
//	replica.Kill(); err = replica.Start(ctx)            // crash and restart, same port
//	etcd, err := local.StartEtcd(t.TempDir(), 0, 0, logger) // in-process; etcd.Endpoint()
package local
