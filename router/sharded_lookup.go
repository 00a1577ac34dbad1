package router

// consistent_lookup_unique: the lookup table maps an owner column's value to the keyspace id
// of its row. Queries on the column read it; writes of the owner table maintain it in
// Vitess's order: lookup rows are created in a "pre" connection committed before the
// statement's own, and deleted in a "post" one committed after it, so that a failure between
// the commits leaves at worst a lookup row pointing to no row, which the next insert of that
// value takes over.

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/engine"
	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/vindex"
	"github.com/vtdirect/vtdirect/vschema"
)

// lookupTable is where a lookup vindex's table lives.
type lookupTable struct {
	ks    *vschema.Keyspace
	name  string
	vdx   vindex.Hashing // the lookup table's own vindex on From, when its keyspace is sharded
	quote func(string) string
}

func (e *Executor) lookupTableOf(ownerKs string, l *vindex.Lookup) (*lookupTable, error) {
	ksName, table := l.TableName()
	if ksName == "" {
		ksName = ownerKs
	}
	ks := e.sharded.vschema().Keyspace(ksName)
	if ks == nil {
		return nil, errUnavailable("lookup vindex %s: keyspace %s has no vschema", l.Name(), ksName)
	}
	lt := &lookupTable{ks: ks, name: table}
	if ks.Sharded {
		t := ks.Table(table)
		if t == nil {
			return nil, errUnavailable("lookup vindex %s: table %s is not in the vschema of %s", l.Name(), table, ksName)
		}
		cv := t.ColumnVindex(l.From)
		h, ok := cvVindex(cv)
		if !ok {
			return nil, errUnavailable("lookup vindex %s: table %s.%s has no computing vindex on %s", l.Name(), ksName, table, l.From)
		}
		lt.vdx = h
	}
	return lt, nil
}

func cvVindex(cv *vschema.ColumnVindex) (vindex.Hashing, bool) {
	if cv == nil {
		return nil, false
	}
	h, ok := cv.Vindex.(vindex.Hashing)
	return h, ok
}

// shardFor is the shard of the lookup table holding a value.
func (e *Executor) lookupShard(lt *lookupTable, v vindex.Value) (string, error) {
	if lt.vdx == nil {
		return e.firstShard(lt.ks.Name)
	}
	id, err := lt.vdx.Hash(v)
	if err != nil {
		return "", errUnavailable("lookup table %s.%s: value %s maps to no shard", lt.ks.Name, lt.name, v)
	}
	return e.shardOf(e.reg.Snapshot(), lt.ks.Name, id)
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// sqlValue is a plan value as an SQL literal: the client's own text for an argument.
func (x *stmtRun) sqlValue(dst []byte, ve planner.ValueExpr) []byte {
	if ve.Arg >= 0 && ve.Arg < len(x.tv.Args) {
		return append(dst, x.tv.Args[ve.Arg]...)
	}
	return planner.SQLLiteral(dst, ve.Value(x.tv.Vals), lexMode(x.s)&planner.NoBackslashEscapes != 0)
}

func (x *stmtRun) literal(dst []byte, v vindex.Value) []byte {
	return planner.SQLLiteral(dst, v, lexMode(x.s)&planner.NoBackslashEscapes != 0)
}

// lookupIDs reads the keyspace ids of values from a lookup vindex's table (nil: none).
func (e *Executor) lookupIDs(x *stmtRun, ks string, l *vindex.Lookup, vals []planner.ValueExpr) ([][]byte, error) {
	lt, err := e.lookupTableOf(ks, l)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(vals))
	for i, ve := range vals {
		v := ve.Value(x.tv.Vals)
		if v.IsNull() {
			continue
		}
		if l.WriteOnly {
			return nil, errLookupWriteOnly
		}
		sh, err := e.lookupShard(lt, v)
		if err != nil {
			return nil, err
		}
		q := []byte("SELECT " + quoteIdent(l.To) + " FROM " + quoteIdent(lt.name) + " WHERE " + quoteIdent(l.From) + " = ")
		q = x.sqlValue(q, ve)
		rows, err := e.silentOn(x, shardKey{ks: lt.ks.Name, shard: sh}, string(q))
		if err != nil {
			return nil, fmt.Errorf("vtdirect: lookup vindex %s: %w", l.Name(), err)
		}
		switch len(rows) {
		case 0:
		case 1:
			out[i] = []byte(rows[0][0])
		default:
			return nil, errUnavailable("lookup vindex %s: %d rows for value %s in %s (a unique lookup has one)", l.Name(), len(rows), v, lt.name)
		}
	}
	return out, nil
}

// errLookupWriteOnly: a write_only lookup (being backfilled) does not route; the query goes
// to every shard.
var errLookupWriteOnly = errors.New("write_only lookup")

// silentOn runs a statement the gateway needs on a shard: on the session's connection there
// when it holds one (its transaction sees its own rows; lookup rows it created are on its
// pre connection, where Vitess reads lookups too), else on a pooled one.
func (e *Executor) silentOn(x *stmtRun, k shardKey, q string) ([][]string, error) {
	h := x.s.shard.find(shardKey{ks: k.ks, shard: k.shard, order: orderPre})
	if h == nil {
		h = x.s.shard.find(k)
	}
	if h != nil {
		return h.conn.Silent(x.ctx, q)
	}
	server, err := e.pickShard(x.s, k.ks, k.shard)
	if err != nil {
		return nil, err
	}
	conn, err := server.Get(x.ctx, wantOf(x.s, false))
	if err != nil {
		return nil, err
	}
	rows, err := conn.Silent(x.ctx, q)
	if err != nil && asMyError(err) == nil {
		conn.Close()
		return nil, err
	}
	conn.Release(0)
	return rows, err
}

// lookupRow is one lookup row a write creates or deletes.
type lookupRow struct {
	l     *vindex.Lookup
	lt    *lookupTable
	owner *vschema.Table // the table whose column the lookup follows
	shard string
	value []byte // SQL literal
	val   vindex.Value
	ksid  []byte
}

// insertLookups are the lookup rows an INSERT creates, one statement per lookup shard.
func (e *Executor) insertLookups(x *stmtRun, ins *planner.Insert, rows *insertRows) ([]lookupRow, error) {
	var out []lookupRow
	for _, il := range ins.Lookups {
		lt, err := e.lookupTableOf(ins.Table.Keyspace.Name, il.Vindex)
		if err != nil {
			return nil, err
		}
		for i, ve := range il.Values {
			v := ve.Value(x.tv.Vals)
			if v.IsNull() {
				if il.Vindex.IgnoreNulls {
					continue
				}
				return nil, &mysql.MyError{Code: mysql.ER_BAD_NULL_ERROR, State: "23000", Message: fmt.Sprintf(
					"vtdirect: lookup vindex %s: column %s of row %d is NULL (set ignore_nulls in the vindex's params to allow it)", il.Vindex.Name(), il.Column, i+1)}
			}
			sh, err := e.lookupShard(lt, v)
			if err != nil {
				return nil, err
			}
			out = append(out, lookupRow{l: il.Vindex, lt: lt, owner: ins.Table, shard: sh, value: x.sqlValue(nil, ve), val: v, ksid: rows.ksid[i]})
		}
	}
	return out, nil
}

// createLookups inserts lookup rows in the pre connections, resolving duplicates as Vitess's
// consistent lookup does: a lookup row whose owner row is gone is taken over.
func (e *Executor) createLookups(x *stmtRun, rows []lookupRow, ignore bool) error {
	for _, r := range rows {
		k := shardKey{ks: r.lt.ks.Name, shard: r.shard, order: orderPre}
		verb := "INSERT"
		if ignore {
			verb = "INSERT IGNORE"
		}
		q := []byte(verb + " INTO " + quoteIdent(r.lt.name) + " (" + quoteIdent(r.l.From) + ", " + quoteIdent(r.l.To) + ") VALUES (")
		q = append(q, r.value...)
		q = append(q, ", "...)
		q = x.literal(q, vindex.BytesValue(r.ksid))
		q = append(q, ')')
		_, err := e.inTxSilent(x, k, string(q), true)
		me := asMyError(err)
		switch {
		case err == nil:
			continue
		case me == nil || me.Code != mysql.ER_DUP_ENTRY:
			return fmt.Errorf("vtdirect: lookup vindex %s: %w", r.l.Name(), err)
		}
		if err := e.lookupDuplicate(x, r, k, me); err != nil {
			return err
		}
	}
	return nil
}

// lookupDuplicate handles a lookup row that exists already, as Vitess's handleDup: the
// lookup row is locked; when the row it points to still has the value (locked in share
// mode, so a transaction creating it is waited for), the value is a real duplicate, even
// when that row has the same keyspace id (a primary vindex that is not unique); else the
// lookup row is an orphan, taken over.
func (e *Executor) lookupDuplicate(x *stmtRun, r lookupRow, k shardKey, dup *mysql.MyError) error {
	where := []byte(" WHERE " + quoteIdent(r.l.From) + " = ")
	where = append(where, r.value...)
	rows, err := e.inTxSilent(x, k, "SELECT "+quoteIdent(r.l.To)+" FROM "+quoteIdent(r.lt.name)+string(where)+" FOR UPDATE", false)
	if err != nil {
		return err
	}
	switch len(rows) {
	case 0:
		q := []byte("INSERT INTO " + quoteIdent(r.lt.name) + " (" + quoteIdent(r.l.From) + ", " + quoteIdent(r.l.To) + ") VALUES (")
		q = append(q, r.value...)
		q = append(q, ", "...)
		q = x.literal(q, vindex.BytesValue(r.ksid))
		q = append(q, ')')
		_, err := e.inTxSilent(x, k, string(q), true)
		return err
	case 1:
	default:
		return errUnavailable("lookup vindex %s: several rows for one value", r.l.Name())
	}
	existing := []byte(rows[0][0])
	// Does the row the lookup points to still exist? (its shard, in the transaction)
	owner := r.owner
	sh, err := e.shardOf(e.reg.Snapshot(), owner.Keyspace.Name, existing)
	if err == nil {
		col := ownerColumn(owner, r.l)
		q := []byte("SELECT " + quoteIdent(col) + " FROM " + quoteIdent(owner.Name) + " WHERE " + quoteIdent(col) + " = ")
		q = append(q, r.value...)
		q = append(q, " LOCK IN SHARE MODE"...)
		found, err := e.inTxSilent(x, shardKey{ks: owner.Keyspace.Name, shard: sh}, string(q), false)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			return dup
		}
	}
	if bytes.Equal(existing, r.ksid) {
		return nil
	}
	q := []byte("UPDATE " + quoteIdent(r.lt.name) + " SET " + quoteIdent(r.l.To) + " = ")
	q = x.literal(q, vindex.BytesValue(r.ksid))
	q = append(q, where...)
	_, err = e.inTxSilent(x, k, string(q), true)
	return err
}

func ownerColumn(t *vschema.Table, l *vindex.Lookup) string {
	for _, cv := range t.ColumnVindexes {
		if cv.Vindex == vindex.Vindex(l) {
			return cv.Column
		}
	}
	return l.From
}

// inTxSilent runs a statement of the gateway's on a connection of the session's transaction
// (joining it when new), recording a write.
func (e *Executor) inTxSilent(x *stmtRun, k shardKey, q string, write bool) ([][]string, error) {
	var rows [][]string
	err := e.inTx(x, k, write, func(c *tabletserver.Conn) (err error) {
		rows, err = c.Silent(x.ctx, q)
		return err
	})
	return rows, err
}

// inTxValues is inTxSilent for a read whose NULLs matter (nil values).
func (e *Executor) inTxValues(x *stmtRun, k shardKey, q string) ([][][]byte, error) {
	var rows [][][]byte
	err := e.inTx(x, k, false, func(c *tabletserver.Conn) (err error) {
		rows, err = c.SilentValues(x.ctx, q)
		return err
	})
	return rows, err
}

// inTx runs a statement of the gateway's with run on a connection of the session's
// transaction on k.
func (e *Executor) inTx(x *stmtRun, k shardKey, write bool, run func(*tabletserver.Conn) error) error {
	conns, err := e.acquire(x, []shardKey{k}, true, true)
	if err != nil {
		return err
	}
	sc := conns[0]
	if sc.begin != "" {
		if _, err := sc.conn.Silent(x.ctx, sc.begin); err != nil {
			sc.conn.Release(0)
			return err
		}
		sc.begin = ""
	}
	err = run(sc.conn)
	if err != nil && asMyError(err) == nil {
		sc.err = err
	}
	e.settle(x, []*shardConn{sc}, true, write)
	return err
}

// withLookupTx runs fn inside the session's transaction, or, in autocommit mode outside a
// transaction, inside one of its own (own true), committed (pre, main, post) when fn
// succeeds, rolled back when it fails: the session is out of it afterwards, whatever the
// shards' replies said. With autocommit off, fn's statements start the session's implicit
// transaction, which stays open as on MariaDB.
func (e *Executor) withLookupTx(x *stmtRun, fn func() error) (own bool, err error) {
	s := x.s
	own = s.state.Autocommit() && !s.state.InTransaction()
	if own {
		s.shard.begin = "BEGIN"
		s.state.ApplyStatus(s.state.Status() | mysql.SERVER_STATUS_IN_TRANS)
	}
	err = fn()
	if !own {
		return false, err
	}
	if err != nil {
		_ = e.endTransaction(s, false)
		return true, err
	}
	return true, e.endTransaction(s, true)
}

// execLookupDML runs an UPDATE or DELETE whose table owns lookup vindexes: it reads the rows
// it will change (FOR UPDATE), changes them, and maintains the lookups (new rows pre,
// deleted rows post).
func (e *Executor) execLookupDML(x *stmtRun, shards []string) error {
	r := x.plan.Route
	ks := r.Keyspace.Name
	var res writeSummary
	_, err := e.withLookupTx(x, func() error {
		pre, post, err := e.lookupChanges(x, shards)
		if err != nil {
			return err
		}
		if err := e.createLookups(x, pre, false); err != nil {
			return err
		}
		main := make([]unit, len(shards))
		for i, sh := range shards {
			main[i] = unit{key: shardKey{ks: ks, shard: sh}, text: x.render(r.Query)}
		}
		if r.Verbatim && !x.binary {
			for i := range main {
				main[i].text = x.text
			}
		}
		w, err := e.writeUnits(x, nil, main, nil)
		if err != nil {
			return err
		}
		res.add(w.Affected, w.Warnings, w.Info)
		for _, p := range post {
			k := shardKey{ks: p.lt.ks.Name, shard: p.shard, order: orderPost}
			q := []byte("DELETE FROM " + quoteIdent(p.lt.name) + " WHERE " + quoteIdent(p.l.From) + " = ")
			q = append(q, p.value...)
			q = append(q, " AND "+quoteIdent(p.l.To)+" = "...)
			q = x.literal(q, vindex.BytesValue(p.ksid))
			if _, err := e.inTxSilent(x, k, string(q), true); err != nil {
				return fmt.Errorf("vtdirect: lookup vindex %s: %w", p.l.Name(), err)
			}
		}
		return nil
	})
	if err != nil {
		return e.failed(x, nil, err, "")
	}
	return e.okWrite(x, engine.WriteResult{Affected: res.affected, Warnings: res.warnings, Info: res.info})
}

// lookupChanges reads the rows an UPDATE or DELETE will change (FOR UPDATE, in the
// transaction) and returns the lookup rows to create (pre) and delete (post), as Vitess's
// consistent lookup: a value unchanged by the column's collation (the case of a
// case-insensitive one, NULL to NULL) changes nothing; a NULL has no lookup row to delete;
// a new NULL gets none when the vindex ignores NULLs, and is refused (1048) otherwise, as
// an INSERT's.
func (e *Executor) lookupChanges(x *stmtRun, shards []string) (pre, post []lookupRow, err error) {
	r := x.plan.Route
	dml := r.DML
	ks := r.Keyspace.Name
	sel := string(x.render(dml.Select))
	var rows [][][]byte
	for _, sh := range shards {
		got, err := e.inTxValues(x, shardKey{ks: ks, shard: sh}, sel)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, got...)
	}
	n := len(dml.Lookups)
	for _, row := range rows {
		if len(row) < 1+n || row[0] == nil {
			continue
		}
		ksid, err := dml.Table.Primary().Vindex.(vindex.Hashing).Hash(columnValue(string(row[0])))
		if err != nil {
			continue
		}
		same := row[1+n:] // one per lookup with a new value, in order
		for i, lc := range dml.Lookups {
			lt, err := e.lookupTableOf(ks, lc.Vindex)
			if err != nil {
				return nil, nil, err
			}
			if lc.New != nil {
				unchanged := len(same) > 0 && string(same[0]) == "1"
				same = same[min(1, len(same)):]
				if unchanged {
					continue
				}
				nv := lc.New.Value(x.tv.Vals)
				switch {
				case !nv.IsNull():
					sh, err := e.lookupShard(lt, nv)
					if err != nil {
						return nil, nil, err
					}
					pre = append(pre, lookupRow{l: lc.Vindex, lt: lt, owner: dml.Table, shard: sh, value: x.sqlValue(nil, *lc.New), val: nv, ksid: ksid})
				case !lc.Vindex.IgnoreNulls:
					return nil, nil, &mysql.MyError{Code: mysql.ER_BAD_NULL_ERROR, State: "23000", Message: fmt.Sprintf(
						"vtdirect: lookup vindex %s: column %s set to NULL (set ignore_nulls in the vindex's params to allow it)", lc.Vindex.Name(), lc.Column)}
				}
			}
			if row[1+i] == nil {
				continue // NULL: no lookup row
			}
			old := vindex.StringValue(string(row[1+i]))
			sh, err := e.lookupShard(lt, old)
			if err != nil {
				continue
			}
			post = append(post, lookupRow{l: lc.Vindex, lt: lt, owner: dml.Table, shard: sh, value: x.literal(nil, old), val: old, ksid: ksid})
		}
	}
	return pre, post, nil
}

// columnValue types a value read back from a column as text: an integer as INT64 (what
// Vitess's vindexes get from an integer column), anything else as text.
func columnValue(v string) vindex.Value {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return vindex.Value{Kind: vindex.Int64, Raw: []byte(v)}
	}
	if _, err := strconv.ParseUint(v, 10, 64); err == nil {
		return vindex.Value{Kind: vindex.Uint64, Raw: []byte(v)}
	}
	return vindex.StringValue(v)
}

// writeSummary adds up what writes did, for the client's OK.
type writeSummary struct {
	affected uint64
	insertID uint64
	warnings uint16
	info     string
}

func (w *writeSummary) add(affected uint64, warnings uint16, info string) {
	w.affected += affected
	w.warnings += warnings
	if w.info == "" {
		w.info = info
	}
}
