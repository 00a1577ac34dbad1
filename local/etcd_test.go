package local

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestStartEtcd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e, err := StartEtcd(dir, 0, 0, testLogger(t))
	if err != nil {
		t.Fatalf("StartEtcd: %v", err)
	}
	put := func(e *Etcd, k, v string) {
		t.Helper()
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint()}, DialTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if v != "" {
			if _, err := c.Put(ctx, k, v); err != nil {
				t.Fatalf("put: %v", err)
			}
			return
		}
		resp, err := c.Get(ctx, k)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v1" {
			t.Fatalf("get %s after restart = %v, want v1", k, resp.Kvs)
		}
	}
	put(e, "/vitess/global/k", "v1")
	port := e.Port()
	e.Close()
	e.Close() // idempotent

	// Restart on the same dir and port: the key survived.
	e, err = StartEtcd(dir, port, 0, nil)
	if err != nil {
		t.Fatalf("restart etcd: %v", err)
	}
	defer e.Close()
	put(e, "/vitess/global/k", "")
}
