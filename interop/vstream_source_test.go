package interop

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	vtrpcpb "vitess.io/vitess/go/vt/proto/vtrpc"
	"vitess.io/vitess/go/vt/vterrors"
	"vitess.io/vitess/go/vt/vtgate/vtgateconn"

	"github.com/vtdirect/vtdirect/gateway"
)

// TestVStreamSourceFitness: a replica switched to binlog_format=MIXED is turned down as a
// VStream source by the gateway's picker (and /debug/picker?purpose=vstream says why) while
// queries still reach it; a REPLICA stream then uses the other replica, and once both
// replicas are unfit, Vitess's client gets FAILED_PRECONDITION naming the setting.
func TestVStreamSourceFitness(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, g, _ := startGatewayWith(t, ctx, nil)
	setFormat := func(alias, format string) {
		db, err := sql.Open("mysql", cluster.Tablet(alias).MariaDB.DSN(""))
		ok(t, err)
		defer db.Close()
		ok(t, exec(ctx, db, "SET GLOBAL binlog_format = "+format))
	}
	setFormat("zone1-101", "MIXED")
	conn, err := vtgateconn.DialProtocol(ctx, "grpc", g.GRPCAddr())
	ok(t, err)
	defer conn.Close()
	vg := &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: cluster.Layout.Keyspace, Shard: cluster.Layout.Shard, Gtid: "current"}}}
	flags := &vtgatepb.VStreamFlags{Cells: "zone1,zone2"}
	sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
	r, err := conn.VStream(sctx, topodatapb.TabletType_REPLICA, vg, nil, flags)
	ok(t, err)
	if _, err := r.Recv(); err != nil {
		t.Fatalf("stream with one fit replica: %v", err)
	}
	scancel()
	// The stream's source is the zone2 replica.
	zone2, err := sql.Open("mysql", cluster.Tablet("zone2-200").MariaDB.DSN(""))
	ok(t, err)
	defer zone2.Close()
	var dumps int
	ok(t, zone2.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'").Scan(&dumps))
	if dumps == 0 {
		t.Error("the REPLICA stream did not read zone2-200, the one fit replica")
	}
	body := debugPicker(t, ctx, g, "keyspace="+cluster.Layout.Keyspace+"&types=REPLICA&cells=zone1,zone2&purpose=vstream&format=text")
	if !strings.Contains(body, "unfit: binlog_format is MIXED, want ROW") {
		t.Errorf("/debug/picker?purpose=vstream does not say why zone1-101 is unfit:\n%s", body)
	}
	if body := debugPicker(t, ctx, g, "keyspace="+cluster.Layout.Keyspace+"&types=REPLICA&format=text"); strings.Contains(body, "unfit") {
		t.Errorf("query routing turned a tablet down as unfit:\n%s", body)
	}

	setFormat("zone2-200", "STATEMENT")
	sctx, scancel = context.WithTimeout(ctx, 60*time.Second)
	defer scancel()
	deadline := time.Now().Add(45 * time.Second)
	for {
		r, err := conn.VStream(sctx, topodatapb.TabletType_REPLICA, vg, nil, flags)
		ok(t, err)
		_, err = r.Recv()
		if vterrors.Code(err) == vtrpcpb.Code_FAILED_PRECONDITION {
			if !strings.Contains(err.Error(), "binlog_format is STATEMENT") || !strings.Contains(err.Error(), "zone2-200") {
				t.Errorf("error %q does not name the setting and the tablet", err)
			}
			break
		}
		if errors.Is(err, io.EOF) || time.Now().After(deadline) {
			t.Fatalf("stream with no fit replica: %v, want FAILED_PRECONDITION", err)
		}
		time.Sleep(time.Second)
	}
}

func debugPicker(t *testing.T, ctx context.Context, g *gateway.Gateway, query string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+g.HTTPAddr()+"/debug/picker?"+query, nil)
	ok(t, err)
	resp, err := http.DefaultClient.Do(req)
	ok(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ok(t, err)
	return string(b)
}
