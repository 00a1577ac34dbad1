package router

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/classify"
)

func TestXAOwnersBounds(t *testing.T) {
	var o xaOwners
	xid := func(i int) xaKey { return xaKey{scope: "ks/0", xid: classify.Xid{Gtrid: fmt.Sprint(i), FormatID: 1}} }
	for i := range maxPreparedXAPerUser {
		if err := o.reserve(xid(i), "a"); err != nil {
			t.Fatalf("branch %d: %v", i, err)
		}
		o.add(xid(i), "a")
	}
	var me *mysql.MyError
	if err := o.reserve(xid(-1), "a"); !errors.As(err, &me) || me.Code != mysql.ER_TOO_MANY_CONCURRENT_TRXS {
		t.Fatalf("one past the per-user bound: %v, want 1637", err)
	}
	if err := o.reserve(xid(0), "a"); err != nil {
		t.Fatalf("preparing a remembered xid again: %v", err)
	}
	if err := o.reserve(xid(-1), "b"); err != nil {
		t.Fatalf("another user: %v", err)
	}
	if !o.ownedBy(xid(3), "a") || o.ownedBy(xid(3), "b") {
		t.Fatal("ownedBy")
	}
	o.remove(xid(3))
	if o.ownedBy(xid(3), "a") {
		t.Fatal("a removed branch is still owned")
	}
	if err := o.reserve(xid(-1), "a"); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	// Taken over by another user (its XA PREPARE of an xid MariaDB had forgotten).
	o.add(xid(4), "b")
	if o.byUser["a"] != maxPreparedXAPerUser-2 || o.byUser["b"] != 1 {
		t.Fatalf("counts: %v", o.byUser)
	}
}

// TestXAOwnersScoped: the same xid on two shards is two branches, each its own preparer's.
func TestXAOwnersScoped(t *testing.T) {
	var o xaOwners
	x := classify.Xid{Gtrid: "x", FormatID: 1}
	a, b := xaKey{scope: "customer/-80", xid: x}, xaKey{scope: "customer/80-", xid: x}
	o.add(a, "app")
	o.add(b, "other")
	if !o.ownedBy(a, "app") || o.ownedBy(a, "other") || !o.ownedBy(b, "other") || o.ownedBy(b, "app") {
		t.Fatalf("owners %v", o.owner)
	}
	o.remove(b)
	if !o.ownedBy(a, "app") {
		t.Fatal("ending other's branch removed app's record")
	}
}
