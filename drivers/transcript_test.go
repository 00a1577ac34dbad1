package drivers

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A transcript is what one run of a script printed: one line per step, "<step>: <result>",
// where a result is rows, affected rows and last insert id, a warning count or an error code
// (with SQLSTATE and message). Scripts print nothing that legitimately differs between
// MariaDB and the gateway: no connection or thread ids (the gateway answers CONNECTION_ID()
// with its own session id), no timings, no server version from the handshake (the gateway
// announces its own), no CURRENT_USER() after COM_CHANGE_USER (the gateway's backend account
// is its own). normalise only trims trailing blanks.
//
// The two runs of a driver use the same table, one after the other: the harness creates it
// empty before each run and reads it after, so the runs never see each other, and error
// messages that quote a statement (MariaDB cuts them at a fixed length) are equal.
//
// Two kinds of lines also tell the check after the run what the script saw acknowledged:
//
//	@committed <note>   a row with this note was acknowledged as committed
//	@rolledback <note>  a row with this note was written and then rolled back
//
// The table (its name in DRV_TABLE for the external scripts; "{T}" in the statements of the
// scripts stands for it):
//
//	CREATE TABLE <table> (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64) NOT NULL,
//	  v INT, UNIQUE KEY (note))
//
// Scripts may create more tables named <table>_<suffix>; the harness drops them all.

const (
	ackCommitted  = "@committed "
	ackRolledBack = "@rolledback "
)

// scriptFunc runs one driver's script against an endpoint with the run's table and returns
// its transcript (the lines the script printed, before normalisation). An error means the
// script itself could not run to its end (a crash, a timeout); the lines printed until then
// are still returned.
type scriptFunc func(t *testing.T, ctx context.Context, ep endpoint, table string) ([]string, error)

// runMatrix runs script directly and through the gateway, compares the two transcripts and
// the tables they left, and checks each run's acknowledged writes on MariaDB directly.
func runMatrix(t *testing.T, driver string, script scriptFunc) {
	t.Helper()
	db := directDB(t)
	var runs [2]runResult
	for i, ep := range endpoints() {
		runs[i] = runOnce(t, db, driver, ep, script)
	}
	direct, through := runs[0], runs[1]
	if direct.err != nil || len(direct.problems) > 0 {
		// The direct run is the oracle: if it fails, the script is wrong, not the gateway.
		t.Errorf("%s: the direct run against MariaDB is broken (a bug in the script, not the gateway): %v\n%s\ntranscript:\n%s",
			driver, direct.err, strings.Join(direct.problems, "\n"), indent(direct.lines))
	}
	if d := diffLines(direct.lines, through.lines); d != "" {
		t.Errorf("%s: transcript through the gateway differs from MariaDB's (- direct, + gateway):\n%s", driver, d)
	}
	if through.err != nil {
		t.Errorf("%s: the run through the gateway did not finish: %v", driver, through.err)
	}
	for _, p := range through.problems {
		t.Errorf("%s through the gateway: %s", driver, p)
	}
	if d := diffLines(direct.table, through.table); d != "" {
		t.Errorf("%s: the table left by the run through the gateway differs from the direct run's (- direct, + gateway):\n%s", driver, d)
	}
}

// runResult is one run: its normalised transcript, the rows its table holds afterwards
// (read directly on MariaDB), the acknowledged writes that are not as acknowledged, and the
// script's own failure.
type runResult struct {
	lines    []string
	table    []string
	problems []string
	err      error
}

func runOnce(t *testing.T, db *sql.DB, driver string, ep endpoint, script scriptFunc) runResult {
	t.Helper()
	ctx := t.Context()
	table := "drv_" + driver
	dropTables(t, db, table)
	t.Cleanup(func() { dropTables(t, db, table) })
	if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+
		" (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64) NOT NULL, v INT, UNIQUE KEY (note))"); err != nil {
		t.Fatalf("create %s on MariaDB: %v", table, err)
	}
	sctx, cancel := context.WithTimeout(ctx, scriptTimeout)
	defer cancel()
	raw, err := script(t, sctx, ep, table)
	var r runResult
	r.err = err
	r.lines = normalise(raw)
	r.table = tableRows(t, db, table)
	r.problems = checkAcks(t, db, table, r.lines)
	if testing.Verbose() {
		t.Logf("%s %s transcript:\n%s", driver, ep.name, indent(r.lines))
	}
	return r
}

// normalise trims trailing blanks, which some clients print and none means.
func normalise(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, strings.TrimRight(l, " \t\r"))
	}
	return out
}

// checkAcks reads the table on MariaDB directly and reports every acknowledged commit that is
// missing and every rolled-back write that is present.
func checkAcks(t *testing.T, db *sql.DB, table string, lines []string) []string {
	t.Helper()
	present := map[string]bool{}
	rows, err := db.QueryContext(t.Context(), "SELECT note FROM "+table)
	if err != nil {
		t.Fatalf("read %s on MariaDB: %v", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		present[n] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, l := range lines {
		if n, ok := strings.CutPrefix(l, ackCommitted); ok && !present[n] {
			problems = append(problems, fmt.Sprintf("acknowledged write %q is not in the table on MariaDB (lost)", n))
		}
		if n, ok := strings.CutPrefix(l, ackRolledBack); ok && present[n] {
			problems = append(problems, fmt.Sprintf("rolled-back write %q is in the table on MariaDB", n))
		}
	}
	return problems
}

// tableRows is the run's table as lines "id note v", in id order.
func tableRows(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT id, note, COALESCE(v, 'NULL') FROM "+table+" ORDER BY id")
	if err != nil {
		t.Fatalf("read %s on MariaDB: %v", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, note, v string
		if err := rows.Scan(&id, &note, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, id+" "+note+" "+v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dropTables drops table and every <table>_<suffix> a script made.
func dropTables(t *testing.T, db *sql.DB, table string) {
	ctx := context.WithoutCancel(t.Context())
	rows, err := db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND (table_name = ? OR table_name LIKE ?)",
		table, strings.ReplaceAll(table, "_", `\_`)+`\_%`)
	if err != nil {
		t.Errorf("list tables of %s: %v", table, err)
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err == nil {
			names = append(names, "`"+n+"`")
		}
	}
	rows.Close()
	if len(names) > 0 {
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+strings.Join(names, ", ")); err != nil {
			t.Errorf("drop %v: %v", names, err)
		}
	}
}

func indent(lines []string) string {
	if len(lines) == 0 {
		return "    (nothing)"
	}
	return "    " + strings.Join(lines, "\n    ")
}

// scriptTimeout bounds one run of one script (a driver that hangs on a reply that never
// comes fails instead of blocking the package).
const scriptTimeout = 90 * time.Second
