package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/local"
)

// pointSelect is sysbench oltp_point_select's query.
const pointSelect = "SELECT c FROM sbtest1 WHERE id=?"

// benchLayout is a one-tablet cluster: the primary zone1-100 of commerce/0 on a free port.
// Replicas would only add idle processes competing for the two CPUs.
func benchLayout() local.Layout {
	return local.Layout{
		Cells:          []string{"zone1"},
		Keyspace:       "commerce",
		Shard:          "0",
		DBName:         "commerce",
		GlobalRoot:     "/vitess/global",
		CellRootPrefix: "/vitess/",
		Tablets:        []local.TabletSpec{{Cell: "zone1", UID: 100, Type: topodatapb.TabletType_PRIMARY}},
	}
}

// startCluster starts etcd and the primary's MariaDB (a child process of bench).
func startCluster(ctx context.Context, dir string) (*local.Cluster, error) {
	l := benchLayout()
	return local.StartCluster(ctx, local.ClusterConfig{
		Dir:    dir,
		Layout: &l,
		// The table must stay in memory: reads must not wait for the disk.
		MariaDBArgs: []string{"--innodb-buffer-pool-size=256M"},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// loadTable creates sysbench's sbtest1 (same columns, keys and value shapes as
// `sysbench oltp_point_select prepare`) with rows rows, in multi-row INSERTs.
func loadTable(ctx context.Context, dsn string, rows int) error {
	return loadTableWhere(ctx, dsn, rows, nil)
}

// loadTableWhere loads the rows of sbtest1 whose id keep accepts (nil: all): one shard's part
// of the table, with the values the whole table would have.
func loadTableWhere(ctx context.Context, dsn string, rows int, keep func(id int) bool) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	stmts := []string{
		"DROP TABLE IF EXISTS sbtest1",
		`CREATE TABLE sbtest1 (
			id INT NOT NULL AUTO_INCREMENT,
			k INT NOT NULL DEFAULT 0,
			c CHAR(120) NOT NULL DEFAULT '',
			pad CHAR(60) NOT NULL DEFAULT '',
			PRIMARY KEY (id)
		) ENGINE=InnoDB`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("load table: %w", err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 1000
	var b strings.Builder
	want := 0
	for first := 1; first <= rows; first += batch {
		b.Reset()
		b.WriteString("INSERT INTO sbtest1 (id, k, c, pad) VALUES ")
		n := 0
		for id := first; id < first+batch && id <= rows; id++ {
			k, c, pad := rng.IntN(rows)+1, digitGroups(rng, 10), digitGroups(rng, 5)
			if keep != nil && !keep(id) {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			fmt.Fprintf(&b, "(%d,%d,'%s','%s')", id, k, c, pad)
		}
		want += n
		if n == 0 {
			continue
		}
		if _, err := db.ExecContext(ctx, b.String()); err != nil {
			return fmt.Errorf("load table: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, "CREATE INDEX k_1 ON sbtest1(k)"); err != nil {
		return fmt.Errorf("load table: %w", err)
	}
	// Read the whole table once so every page is in the buffer pool.
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sbtest1 WHERE c <> ''").Scan(&n); err != nil {
		return fmt.Errorf("load table: %w", err)
	}
	if n != want {
		return fmt.Errorf("load table: %d rows, want %d", n, want)
	}
	return nil
}

// digitGroups is sysbench's value shape: groups of 11 digits joined by '-' (c has 10 groups,
// 119 characters; pad has 5, 59 characters).
func digitGroups(rng *rand.Rand, groups int) string {
	var b strings.Builder
	for g := range groups {
		if g > 0 {
			b.WriteByte('-')
		}
		for range 11 {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
	}
	return b.String()
}
