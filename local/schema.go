package local

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The sample schema is Vitess's commerce example (customer, product, corder) with readable
// column types, so the demo feels like Vitess's local example.
var sampleTables = []string{
	`CREATE TABLE IF NOT EXISTS product (
  sku VARCHAR(128) NOT NULL,
  description VARCHAR(128),
  price BIGINT,
  PRIMARY KEY (sku)
) ENGINE=InnoDB`,
	`CREATE TABLE IF NOT EXISTS customer (
  customer_id BIGINT NOT NULL AUTO_INCREMENT,
  email VARCHAR(128),
  PRIMARY KEY (customer_id)
) ENGINE=InnoDB`,
	`CREATE TABLE IF NOT EXISTS corder (
  order_id BIGINT NOT NULL AUTO_INCREMENT,
  customer_id BIGINT,
  sku VARCHAR(128),
  price BIGINT,
  PRIMARY KEY (order_id),
  KEY customer_id (customer_id)
) ENGINE=InnoDB`,
}

// Sample data sizes: a few dozen rows, enough to see joins and ordering.
const (
	sampleProducts  = 10
	sampleCustomers = 20
	sampleOrders    = 40
)

var sampleFirstNames = []string{"alice", "bob", "carol", "dan", "eve", "frank", "grace", "heidi", "ivan", "judy"}

// CreateDatabase creates database name on the server at dsn if it does not exist.
func CreateDatabase(ctx context.Context, dsn, name string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+strings.ReplaceAll(name, "`", "``")+"`"); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// LoadSampleSchema creates database dbName with the sample tables and rows on the server at dsn
// (a primary: replicas get them through replication). It is idempotent: tables are created if
// missing and rows inserted with fixed keys, ignoring those already there.
func LoadSampleSchema(ctx context.Context, dsn, dbName string) error {
	if err := CreateDatabase(ctx, dsn, dbName); err != nil {
		return err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("load sample schema: %w", err)
	}
	defer conn.Close()
	stmts := []string{"USE `" + strings.ReplaceAll(dbName, "`", "``") + "`"}
	stmts = append(stmts, sampleTables...)
	stmts = append(stmts, sampleRows()...)
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("load sample schema: %s: %w", firstLine(s), err)
		}
	}
	return nil
}

// sampleRows returns INSERT IGNORE statements with deterministic rows.
func sampleRows() []string {
	var p, c, o strings.Builder
	p.WriteString("INSERT IGNORE INTO product (sku, description, price) VALUES ")
	for i := 1; i <= sampleProducts; i++ {
		if i > 1 {
			p.WriteString(", ")
		}
		fmt.Fprintf(&p, "('SKU-%04d', 'product %d', %d)", 1000+i, i, 100*i+99)
	}
	c.WriteString("INSERT IGNORE INTO customer (customer_id, email) VALUES ")
	for i := 1; i <= sampleCustomers; i++ {
		if i > 1 {
			c.WriteString(", ")
		}
		name := sampleFirstNames[(i-1)%len(sampleFirstNames)]
		fmt.Fprintf(&c, "(%d, '%s%d@example.com')", i, name, i)
	}
	o.WriteString("INSERT IGNORE INTO corder (order_id, customer_id, sku, price) VALUES ")
	for i := 1; i <= sampleOrders; i++ {
		if i > 1 {
			o.WriteString(", ")
		}
		prod := (i*7)%sampleProducts + 1
		fmt.Fprintf(&o, "(%d, %d, 'SKU-%04d', %d)", i, (i*3)%sampleCustomers+1, 1000+prod, 100*prod+99)
	}
	return []string{p.String(), c.String(), o.String()}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	if len(s) > 80 {
		return s[:80] + " ..."
	}
	return s
}
