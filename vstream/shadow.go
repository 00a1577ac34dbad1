package vstream

// The tracker's shadow schema (see tracker.go): empty copies of a database's tables on the
// primary, in a database of their own, on which the tracker replays the database's DDLs. Its
// statements run with sql_log_bin=0: the shadow never reaches the binlog or the replicas.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// shadow is the shadow of database live, on one connection of its own.
type shadow struct {
	conn *sql.Conn
	live string // the tracked database
	name string // the shadow database
	db   *sql.DB
}

// shadowName is the shadow database of db (database names have at most 64 characters).
func shadowName(db string) string {
	n := "_vtdirect_shadow_" + db
	if len(n) > 64 {
		sum := sha256.Sum256([]byte(db))
		n = "_vtdirect_shadow_" + hex.EncodeToString(sum[:16])
	}
	return n
}

func openShadow(ctx context.Context, db *sql.DB, live string) (*shadow, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	sh := &shadow{conn: conn, live: live, name: shadowName(live), db: db}
	for _, q := range []string{"SET SESSION sql_log_bin = 0", "SET SESSION foreign_key_checks = 0"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.Close()
			return nil, fmt.Errorf("shadow schema: %s: %w (the tracker's user needs the privilege to skip the binlog)", q, err)
		}
	}
	return sh, nil
}

func (sh *shadow) close() { _ = sh.conn.Close() }

// reset drops and recreates the shadow database, empty.
func (sh *shadow) reset(ctx context.Context) error {
	for _, q := range []string{"DROP DATABASE IF EXISTS " + quoteIdent(sh.name), "CREATE DATABASE " + quoteIdent(sh.name), "USE " + quoteIdent(sh.name)} {
		if _, err := sh.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("shadow schema: %s: %w", q, err)
		}
	}
	return nil
}

// copyLive rebuilds the shadow from the live database's CREATE TABLE statements.
func (sh *shadow) copyLive(ctx context.Context) error {
	if err := sh.reset(ctx); err != nil {
		return err
	}
	names, err := newSchemaCache(sh.db, sh.live).listTables(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		var tbl, create string
		err := sh.conn.QueryRowContext(ctx, "SHOW CREATE TABLE "+quoteIdent(sh.live)+"."+quoteIdent(n)).Scan(&tbl, &create)
		if err != nil {
			return fmt.Errorf("shadow schema: SHOW CREATE TABLE %s: %w", n, err)
		}
		if _, err := sh.conn.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("shadow schema: create %s: %w", n, err)
		}
	}
	return nil
}

// restore rebuilds the shadow from the CREATE statements of a history entry.
func (sh *shadow) restore(ctx context.Context, tables map[string]*tableDef) error {
	if err := sh.reset(ctx); err != nil {
		return err
	}
	for _, d := range tables {
		if d.Create == "" {
			return fmt.Errorf("shadow schema: entry without the CREATE statement of %s", d.Name)
		}
		if _, err := sh.conn.ExecContext(ctx, d.Create); err != nil {
			return fmt.Errorf("shadow schema: create %s: %w", d.Name, err)
		}
	}
	return nil
}

// replay runs a DDL of the live database on the shadow, with references to the live database
// pointed at the shadow.
func (sh *shadow) replay(ctx context.Context, live, ddl string) error {
	q := retarget(ddl, live, sh.name)
	for _, db := range qualifiers(q) {
		if db != sh.name {
			// Never run a statement that names another database: on the shadow's connection
			// (sql_log_bin=0) it would change that database for real.
			return fmt.Errorf("replay %q: it names database %s", ddl, db)
		}
	}
	if _, err := sh.conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("replay %q: %w", q, err)
	}
	return nil
}

// retarget replaces qualified references to database from ("from.t", "`from`.t") by to.
func retarget(ddl, from, to string) string {
	re := regexp.MustCompile("(?i)(^|[^A-Za-z0-9_$`.])(`" + regexp.QuoteMeta(strings.ReplaceAll(from, "`", "``")) + "`|" + regexp.QuoteMeta(from) + ")\\s*\\.")
	return re.ReplaceAllString(ddl, "${1}"+quoteIdent(to)+".")
}

// tables reads every table of the shadow, named as in the live database, with its CREATE
// statement.
func (sh *shadow) tables(ctx context.Context, _ string) ([]*tableDef, error) {
	cache := newSchemaCache(sh.db, sh.name)
	names, err := cache.listTables(ctx)
	if err != nil {
		return nil, err
	}
	var out []*tableDef
	for _, n := range names {
		d, err := cache.loadDef(ctx, n)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		var tbl string
		if err := sh.conn.QueryRowContext(ctx, "SHOW CREATE TABLE "+quoteIdent(sh.name)+"."+quoteIdent(n)).Scan(&tbl, &d.Create); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
