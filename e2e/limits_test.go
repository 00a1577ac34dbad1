package e2e

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/vtdirect/vtdirect/gateway"
)

// 2,000 clients against a limit of 1,000: the rest get 1040 Too many connections, and the
// first 1,000 keep working (each runs a query through the gateway afterwards).
func TestConnectionLimit(t *testing.T) {
	const limit, clients = 1000, 2000
	g := newGateway(t, func(c *gatewayConfigT) { c.Limits = gateway.Limits{MaxConnections: limit} })
	cfg, err := mysql.ParseDSN(dsn(g, "commerce"))
	if err != nil {
		t.Fatal(err)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		conns   []driver.Conn
		refused int
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, 64) // connecting at once: the gateway's accept queue, not the test, is the subject
	for range clients {
		wg.Go(func() {
			sem <- struct{}{}
			c, err := connector.Connect(t.Context())
			<-sem
			mu.Lock()
			defer mu.Unlock()
			var me *mysql.MySQLError
			switch {
			case err == nil:
				conns = append(conns, c)
			case errors.As(err, &me) && me.Number == 1040:
				refused++
			default:
				t.Errorf("connect: %v", err)
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if len(conns) != limit || refused != clients-limit {
		t.Fatalf("%d connected, %d refused with 1040; want %d and %d", len(conns), refused, limit, clients-limit)
	}
	// every admitted connection works
	var failed sync.Map
	for i, c := range conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			rows, err := c.(driver.QueryerContext).QueryContext(context.Background(), "SELECT 1", nil)
			if err == nil {
				err = rows.Close()
			}
			if err != nil {
				failed.Store(i, err)
			}
		})
	}
	wg.Wait()
	failed.Range(func(k, v any) bool {
		t.Errorf("connection %d: %v", k, v)
		return true
	})
	_, metrics := httpGetFrom(t, g, "/metrics")
	if want := fmt.Sprintf(`vtdirect_mysql_connections_refused_total{reason="max_connections"} %d`, clients-limit); !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
