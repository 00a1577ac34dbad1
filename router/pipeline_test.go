package router

import (
	"fmt"
	"strings"
	"testing"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/classify"
)

func testParser(t testing.TB) *sqlparser.Parser {
	p, err := sqlparser.New(sqlparser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCurrentDatabaseOnly: a statement goes in its schema switch's write only when nothing in
// it can name another database than the current one; a table's qualifier (an ORM's t0.id) can
// not, a database's can.
func TestCurrentDatabaseOnly(t *testing.T) {
	p := testParser(t)
	ansi := classify.Options{AnsiQuotes: true}
	noBackslash := classify.Options{NoBackslashEscapes: true}
	gbk := classify.Options{Charset: classify.CharsetGBK}
	tests := []struct {
		q    string
		opt  classify.Options
		want bool
	}{
		// What the tokenizer proves alone (no parse).
		{q: "select * from t where id = 1", want: true},
		{q: "select * from information_schema.tables", want: true},
		{q: "select * from other.t", want: false},
		// found by review: a number ends at its exponent (1e1 JOIN, not a function 1e1JOIN), a
		// long s is no information_schema to MariaDB, @"..." is a name under ANSI_QUOTES
		{q: "UPDATE (SELECT 1 a) d JOIN (SELECT 2 b) e ON 1e1JOIN(other.u) SET u.id = 2", want: false},
		{q: "select 1e1FROM (other.u)", want: false},
		{q: "select 1E+1FROM (other.u)", want: false},
		{q: "INSERT INTO information_\u017fchema.u VALUES (2)", want: false},
		{q: `SELECT @"a\", (SELECT COUNT(*) FROM other.u) -- "`, opt: ansi, want: false},

		// ORMs' statements: columns qualified by a table or an alias.
		{q: "SELECT t0.id, t0.name FROM users t0 WHERE t0.id = 1", want: true},                            // Hibernate
		{q: "SELECT `users`.* FROM `users` WHERE `users`.`id` = 1 LIMIT 1", want: true},                   // ActiveRecord
		{q: "SELECT * FROM `users` WHERE `users`.`deleted_at` IS NULL ORDER BY `users`.`id`", want: true}, // GORM
		{q: "SELECT t0.id FROM users t0 WHERE t0.id = ?", want: true},                                     // prepared
		{q: "SELECT u.id, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id IN (SELECT x.id FROM vip x)", want: true},
		{q: "UPDATE users u SET u.name = 'x' WHERE u.id = 1", want: true},
		{q: "UPDATE users u JOIN orders o ON o.uid = u.id SET o.total = o.total + 1", want: true},
		{q: "DELETE u FROM users u JOIN bans b ON b.uid = u.id", want: true},
		{q: "DELETE FROM users WHERE users.id = 1", want: true},
		{q: "INSERT INTO t (a) SELECT u.a FROM u WHERE u.b = 1", want: true},
		{q: "INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = t.a + 1", want: true},
		{q: "REPLACE INTO t SELECT u.* FROM u", want: true},
		{q: "WITH c AS (SELECT id FROM t) SELECT c.id FROM c", want: true}, // a CTE's name
		{q: "SELECT d.n FROM (SELECT count(*) AS n FROM t) d", want: true}, // a derived table's alias
		{q: "SELECT t.a FROM t PARTITION (p0) USE INDEX (i) WHERE t.b = 1", want: true},
		{q: "SELECT t.a, row_number() OVER w FROM t WINDOW w AS (ORDER BY t.a)", want: true},
		{q: "SELECT j.v FROM t, JSON_TABLE(t.doc, '$[*]' COLUMNS (v INT PATH '$')) AS j", want: true},
		{q: "SELECT t.a FROM t; SELECT u.b FROM u", want: true},
		{q: "SELECT t.a FROM t;", want: true},
		{q: "select tables.table_name from information_schema.tables", want: true},
		{q: "select information_schema.tables.table_name from information_schema.tables", want: true},
		{q: "select `t`.`a` from `t` where `t`.`b` = 'a\\'b'", want: true},
		{q: `select "t"."a" from t`, opt: ansi, want: true},
		{q: "select t.a from t where t.b = 'x\\'", opt: noBackslash, want: true},
		{q: "SELECT t.a FROM t /*! WHERE t.b = 1 */", want: true}, // always run: as code
		{q: "SELECT t.a FROM t -- other.t\n WHERE t.b = 1 /* other.t */", want: true},
		{q: "SELECT t.`a.b` FROM t", want: true},       // a column named a.b
		{q: "SELECT `db.t`.a FROM `db.t`", want: true}, // a table named db.t
		{q: "SELECT t.a, @x.y, @@session.sql_mode FROM t", want: true},
		{q: "SELECT t.a FROM t WHERE t.b = 1--1", want: true},
		{q: hibernateSelect(30), want: true}, // 1.4 KB

		// Another database, however it is written.
		{q: "SELECT t0.id FROM other.users t0", want: false},
		{q: "SELECT t0.id FROM users t0 JOIN other.orders o ON o.uid = t0.id", want: false},
		{q: "SELECT other.t.a FROM t", want: false},                                  // db.t.col
		{q: "SELECT t.a FROM t WHERE t.b = other.u.c", want: false},                  // db.t.col in an expression
		{q: "SELECT other.t.* FROM t", want: false},                                  // db.t.*
		{q: "SELECT t.a, other.f(t.b) FROM t", want: false},                          // a stored function of another database
		{q: "SELECT t.a FROM t WHERE t.b IN (SELECT u.b FROM other.u)", want: false}, // a subquery
		{q: "SELECT t.a FROM t WHERE EXISTS (SELECT 1 FROM `other`.`u` WHERE u.b = t.b)", want: false},
		{q: "WITH c AS (SELECT x.a FROM other.x) SELECT c.a FROM c", want: false}, // a CTE over another database
		{q: "SELECT d.a FROM (SELECT u.a FROM other.u) d", want: false},
		{q: "SELECT t.a FROM t, JSON_TABLE((SELECT u.doc FROM other.u), '$' COLUMNS (v INT PATH '$')) AS j", want: false},
		{q: "INSERT INTO t (a) SELECT u.a FROM other.u", want: false}, // INSERT ... SELECT
		{q: "INSERT INTO other.t (a) SELECT u.a FROM u", want: false},
		{q: "INSERT INTO t (t.a) VALUES (1)", want: false}, // Vitess drops the qualifier: the count refuses
		{q: "UPDATE t, other.u SET t.a = u.a WHERE t.id = u.id", want: false},
		{q: "UPDATE t SET t.a = (SELECT u.a FROM other.u LIMIT 1)", want: false},
		{q: "DELETE t FROM t JOIN other.u ON u.id = t.id", want: false},
		{q: "DELETE other.t FROM other.t JOIN u ON u.id = t.id", want: false},
		{q: "REPLACE INTO t SELECT u.* FROM other.u", want: false},
		{q: "SELECT t.a FROM t; SELECT u.a FROM other.u", want: false}, // the second statement
		{q: `select "o"."t".a from t`, opt: ansi, want: false},
		{q: "SELECT t.a FROM t WHERE t.b = 'x\\' AND 1 = other.u.c -- '", opt: noBackslash, want: false},
		// In gbk, 0x81 0x5c is one character: the string ends after it, other.u.c is code.
		{q: "SELECT t.a FROM t WHERE t.b = '\x81\\' AND 1 = other.u.c -- '", opt: gbk, want: false},
		{q: "SELECT t.a FROM t WHERE t.b = '\x81\\' AND 1 = other.u.c -- '", want: true}, // utf8: a string to the end
		{q: "SELECT t.a FROM t /*!99999 WHERE t.b = 1 */", want: false},                  // MariaDB may skip it
		{q: "SELECT t.a FROM t /*M!100500 WHERE t.b = 1 */", want: false},                // as may a MariaDB below 10.5
		{q: "SELECT t.a FROM t /*! , other.u */", want: false},
		// Read as code, other.u is a column in a subquery; skipped, as MariaDB does, a table.
		{q: "SELECT t.a FROM t /*!99999 WHERE t.b IN (SELECT t.c */ , other.u /*!99999 FROM t) */", want: false},
		{q: "SELECT t.a FROM t /*M!999999 WHERE t.b IN (SELECT t.c */ , other.u /*M!999999 FROM t) */", want: false},
		{q: "SELECT s.nextval FROM t", want: false}, // a sequence under sql_mode ORACLE
		{q: "SELECT db.s.currval", want: false},
		{q: "SELECT NEXT VALUE FOR s, t.a FROM t", want: false}, // classify: a sequence
		{q: "SELECT nextval(other.s), t.a FROM t", want: false},
		{q: "SELECT t.a FROM t WHERE get_lock('x', 0)", want: false}, // classify: a lock
		{q: "SELECT t.a FROM t INTO OUTFILE '/tmp/x'", want: false},
		{q: "SELECT t.a FROM t FOR SYSTEM_TIME ALL", want: false}, // MariaDB's own syntax: no parse
		{q: "SELECT t.a FROM t LIMIT ROWS EXAMINED 10", want: false},
		{q: "DELETE FROM t WHERE t.a = 1 RETURNING t.a", want: false},
		{q: "SELECT t.a FROM {oj t LEFT JOIN other.u ON u.id = t.id}", want: false},
		{q: "SELECT t.* FROM t, other .u", want: false},
		{q: "SELECT t.a FROM t WHERE t.a = 'unterminated", want: false},
		{q: "CALL p.x()", want: false},
		{q: "SET @a = (SELECT t.a FROM t)", want: false},
		{q: hibernateSelect(60), want: false}, // 2.8 KB: not worth its parse (maxParsed)
	}
	for _, tt := range tests {
		q := []byte(tt.q)
		cq := classify.Analyze(q, tt.opt)
		if got := currentDatabaseOnly(p, q, &cq, tt.opt); got != tt.want {
			t.Errorf("currentDatabaseOnly(%q) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

// hibernateSelect is a Hibernate-style SELECT of n columns, each qualified and aliased.
func hibernateSelect(n int) string {
	var b strings.Builder
	b.WriteString("select ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "customer0_.column_number_%d as column_%d_0_", i, i)
	}
	b.WriteString(" from customer customer0_ where customer0_.id=?")
	return b.String()
}

// BenchmarkCurrentDatabaseOnly is what the router adds to a statement whose connection
// switches its database: the tokenizer's proof alone (unqualified), and the parse when a
// column is qualified (an ORM's statement). classify's BenchmarkCurrentDatabaseOnly measures
// the first alone.
func BenchmarkCurrentDatabaseOnly(b *testing.B) {
	p := testParser(b)
	for _, bc := range []struct{ name, q string }{
		{"unqualified", "SELECT id, name, email FROM users WHERE id = 42"},
		{"orm", "SELECT t0.id, t0.name, t0.email FROM users t0 WHERE t0.id = 42"},
		{"orm_join", "SELECT u.id, u.name, o.id, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = 42 ORDER BY o.id DESC LIMIT 10"},
		{"hibernate_30_columns", hibernateSelect(30)},
	} {
		q := []byte(bc.q)
		cq := classify.Analyze(q, classify.Options{})
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !currentDatabaseOnly(p, q, &cq, classify.Options{}) {
					b.Fatal("not bound")
				}
			}
		})
	}
}

// FuzzCurrentDatabaseOnly: any query under any options gets an answer (no panic), and a
// query the tokenizer alone proves keeps its answer.
func FuzzCurrentDatabaseOnly(f *testing.F) {
	for _, q := range []string{"SELECT t0.id FROM users t0 WHERE t0.id = 1", "select * from other.t",
		"SELECT t.a FROM t /*!99999 , other.u */", "INSERT INTO t (t.a) VALUES (1)", `select "t"."a" from t`,
		"SELECT t.a FROM t WHERE t.b = '\x81\\' AND 1 = other.u.c -- '", "SELECT `a``b`.c FROM t; SELECT @x.y"} {
		f.Add(q, uint8(0))
	}
	p := testParser(f)
	f.Fuzz(func(t *testing.T, q string, mode uint8) {
		opt := classify.Options{AnsiQuotes: mode&1 != 0, NoBackslashEscapes: mode&2 != 0, Charset: classify.Charset(mode >> 2 % 6)}
		qb := []byte(q)
		cq := classify.Analyze(qb, opt)
		got := currentDatabaseOnly(p, qb, &cq, opt)
		if classify.CurrentDatabaseOnly(qb, &cq, opt) && !got {
			t.Errorf("currentDatabaseOnly(%q) = false where the tokenizer proves it", q)
		}
	})
}
