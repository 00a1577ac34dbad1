package main

import "testing"

// The demo starts `vtdirect serve` and `vtdirect local etcd` with command lines built in
// local.go: they must parse with the real commands' flags.
func TestLocalCommandLinesParse(t *testing.T) {
	f := &localFlags{user: "app", password: "app", tabletPortBase: 17000, etcdPort: 2379, etcdPeerPort: 2380,
		cell: "zone1", mysqlPort: 15306, grpcPort: 15991, httpPort: 15000}
	cfg := demoConfig(f, "/tmp/x", "/bin/vtdirect")

	serve := newServeCmd()
	if cfg.Gateway.Args[0] != serve.Name() {
		t.Fatalf("gateway args start with %q, want %q", cfg.Gateway.Args[0], serve.Name())
	}
	if err := serve.ParseFlags(cfg.Gateway.Args[1:]); err != nil {
		t.Errorf("serve does not accept the demo's flags %v: %v", cfg.Gateway.Args, err)
	}

	root := newLocalCmd()
	etcd, rest, err := root.Find(cfg.EtcdArgs[1:])
	if err != nil || etcd.Name() != "etcd" {
		t.Fatalf("find %v: %v, %v", cfg.EtcdArgs, etcd, err)
	}
	if err := etcd.ParseFlags(rest); err != nil {
		t.Errorf("local etcd does not accept %v: %v", cfg.EtcdArgs, err)
	}
	if cfg.Layout.Tablets[0].MySQLPort != 17100 {
		t.Errorf("zone1-100 port %d, want 17100", cfg.Layout.Tablets[0].MySQLPort)
	}
}
