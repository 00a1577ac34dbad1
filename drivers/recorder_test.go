package drivers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// recorder writes the transcript of the in-process Go scripts (go-sql-driver/mysql) in the
// format every script prints (see transcript_test.go).
type recorder struct {
	ctx   context.Context
	lines []string
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (r *recorder) line(step, format string, args ...any) {
	r.lines = append(r.lines, step+": "+fmt.Sprintf(format, args...))
}

func (r *recorder) committed(note string)  { r.lines = append(r.lines, ackCommitted+note) }
func (r *recorder) rolledBack(note string) { r.lines = append(r.lines, ackRolledBack+note) }

// fail records err as the step's result.
func (r *recorder) fail(step string, err error) { r.line(step, "%s", errText(err)) }

// errText is a MySQL error as "error=<code> <sqlstate> <message>", any other error as is.
func errText(err error) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return fmt.Sprintf("error=%d %s %s", me.Number, string(me.SQLState[:]), me.Message)
	}
	return "error: " + err.Error()
}

// exec runs a statement and records affected rows and last insert id, or the error.
func (r *recorder) exec(step string, e execer, query string, args ...any) bool {
	res, err := e.ExecContext(r.ctx, query, args...)
	if err != nil {
		r.fail(step, err)
		return false
	}
	r.result(step, res)
	return true
}

func (r *recorder) result(step string, res sql.Result) {
	aff, err1 := res.RowsAffected()
	id, err2 := res.LastInsertId()
	if err := errors.Join(err1, err2); err != nil {
		r.fail(step, err)
		return
	}
	r.line(step, "affected=%d insert_id=%d", aff, id)
}

// query runs a query and records every result set's rows, or the error.
func (r *recorder) query(step string, q queryer, query string, args ...any) {
	rows, err := q.QueryContext(r.ctx, query, args...)
	if err != nil {
		r.fail(step, err)
		return
	}
	r.rows(step, rows)
}

func (r *recorder) rows(step string, rows *sql.Rows) {
	defer rows.Close()
	var sets []string
	for {
		s, err := formatRows(rows)
		if err != nil {
			r.fail(step, err)
			return
		}
		sets = append(sets, s)
		if !rows.NextResultSet() {
			break
		}
	}
	if err := rows.Err(); err != nil {
		r.fail(step, err)
		return
	}
	r.line(step, "%s", strings.Join(sets, " ; "))
}

// formatRows is one result set as "cols=[a b] rows=[[1 x] [2 NULL]]".
func formatRows(rows *sql.Rows) (string, error) {
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var out []string
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				cells[i] = "NULL"
			} else {
				cells[i] = fmt.Sprintf("%q", v)
			}
		}
		out = append(out, "["+strings.Join(cells, " ")+"]")
	}
	return fmt.Sprintf("cols=%v rows=[%s]", cols, strings.Join(out, " ")), rows.Err()
}

// tx runs body in a database/sql transaction on c and commits it if body says so, else
// rolls it back; it records the outcome and reports whether body asked to commit and the
// commit succeeded.
func (r *recorder) tx(step string, c *sql.Conn, opts *sql.TxOptions, body func(tx *sql.Tx) bool) bool {
	tx, err := c.BeginTx(r.ctx, opts)
	if err != nil {
		r.fail(step+" begin", err)
		return false
	}
	if !body(tx) {
		if err := tx.Rollback(); err != nil {
			r.fail(step+" rollback", err)
		} else {
			r.line(step+" rollback", "ok")
		}
		return false
	}
	if err := tx.Commit(); err != nil {
		r.fail(step+" commit", err)
		return false
	}
	r.line(step+" commit", "ok")
	return true
}
