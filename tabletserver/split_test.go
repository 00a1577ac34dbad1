package tabletserver

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// TestIntegrationSendReceive: statements sent on two connections are both on the server
// before either reply is read, and each reply is forwarded as Exec forwards it; the query
// timeout runs from Send; a Receive with nothing sent is a statement error.
func TestIntegrationSendReceive(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	db := openDB(t, m)
	ctx := context.Background()
	const q = "SELECT SLEEP(2) AS split_marker, id, v FROM t WHERE id = 1"
	want := rawReply(t, ts, queryFrame(q))
	conns := make([]*Conn, 2)
	for i := range conns {
		c, err := ts.Get(ctx, Want{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release(0)
		conns[i] = c
	}
	reqs := make([]Request, len(conns))
	for i, c := range conns {
		reqs[i] = Request{Frame: queryFrame(q)}
		if err := c.Send(ctx, &reqs[i]); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	waitFor(t, "both sent statements to run on the server at once", 10*time.Second, func() bool {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(2) AS split_marker%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 2
	})
	for _, c := range conns {
		var w bytes.Buffer
		res, err := c.Receive(&w)
		if err != nil || res.Err != nil || res.Rows != 1 {
			t.Fatalf("Receive: %v %+v", err, res)
		}
		if !bytes.Equal(w.Bytes(), want) {
			t.Errorf("received %d bytes, differ from the %d the server sends directly", w.Len(), len(want))
		}
	}

	if _, err := conns[0].Receive(&bytes.Buffer{}); err == nil || !StatementOnly(err) {
		t.Errorf("Receive with nothing sent: %v, want a statement error", err)
	}

	// The timeout armed by Send stops the statement while its reply is awaited.
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	req := Request{Frame: queryFrame("SELECT SLEEP(10)")}
	if err := conns[1].Send(dctx, &req); err != nil {
		t.Fatal(err)
	}
	var me *mysql.MyError
	if _, err := conns[1].Receive(&bytes.Buffer{}); !errors.As(err, &me) || me.Code != mysql.ER_QUERY_INTERRUPTED {
		t.Fatalf("Receive after a deadline: %v, want 1317", err)
	}
	var w bytes.Buffer
	if res, err := conns[1].Exec(ctx, &Request{Frame: queryFrame("SELECT 1")}, &w); err != nil || res.Err != nil {
		t.Fatalf("the connection after the stopped statement: %v %v", err, res.Err)
	}
}
