package router

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/engine"
	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/vindex"
)

// insertRows is an INSERT's rows resolved: each row's sequence value (when it gets one) and
// shard.
type insertRows struct {
	fill   []bool
	seq    []int64
	ksid   [][]byte
	shard  []string
	first  int64 // the first sequence value given (0: none)
	shards []string
}

// execInsert splits an INSERT's rows by shard: the sequence fills its column first, then
// each row's primary vindex value says its shard; a shard's rows go in one statement, the
// shards' statements in one transaction (lookup rows first, in their own).
func (e *Executor) execInsert(x *stmtRun) error {
	ins := x.plan.Insert
	rows, err := e.resolveInsert(x, ins)
	if err != nil {
		return e.refuse(x, err)
	}
	ks := ins.Table.Keyspace.Name
	texts := map[string][]byte{}
	for _, sh := range rows.shards {
		texts[sh] = ins.Prefix.Render(nil, &x.tv)
	}
	count := map[string]int{}
	for i := range ins.Rows {
		sh := rows.shard[i]
		t := texts[sh]
		if count[sh] > 0 {
			t = append(t, ", "...)
		}
		count[sh]++
		x.tv.Seq, x.tv.Fill = rows.seq[i], rows.fill[i]
		texts[sh] = ins.Rows[i].Render(t, &x.tv)
	}
	x.tv.Seq, x.tv.Fill = 0, false
	for sh, t := range texts {
		texts[sh] = ins.Suffix.Render(t, &x.tv)
	}
	lookups, err := e.insertLookups(x, ins, rows)
	if err != nil {
		return e.refuse(x, err)
	}
	if len(rows.shards) == 1 && rows.first == 0 && len(lookups) == 0 {
		// One shard and nothing generated: its reply is the client's.
		frame := x.frame
		if !ins.Verbatim || x.binary {
			frame = queryFrame(texts[rows.shards[0]])
		}
		if x.binary && ins.Verbatim {
			return e.stmtOnShard(x, shardKey{ks: ks, shard: rows.shards[0]}, &planner.Route{Verbatim: true})
		}
		return e.onShard(x.ctx, x.c, x.s, x.q, shardKey{ks: ks, shard: rows.shards[0]}, frame, nil)
	}
	main := make([]unit, len(rows.shards))
	for i, sh := range rows.shards {
		main[i] = unit{key: shardKey{ks: ks, shard: sh}, text: texts[sh]}
	}
	var res engine.WriteResult
	if len(lookups) > 0 {
		var own bool
		own, err = e.withLookupTx(x, func() error {
			if err := e.createLookups(x, lookups, ins.Ignore); err != nil {
				return err
			}
			var werr error
			res, werr = e.writeUnits(x, nil, main, nil)
			return werr
		})
		if own {
			res.InTrans = false // the gateway's own transaction is committed
		}
	} else {
		res, err = e.writeUnits(x, nil, main, nil)
	}
	if err != nil {
		return e.failed(x, nil, err, "")
	}
	if rows.first != 0 {
		res.InsertID = uint64(rows.first) // as vtgate: the first value the sequence gave
	}
	return e.okWrite(x, res)
}

// resolveInsert computes each row's sequence value and shard.
func (e *Executor) resolveInsert(x *stmtRun, ins *planner.Insert) (*insertRows, error) {
	n := len(ins.Rows)
	r := &insertRows{fill: make([]bool, n), seq: make([]int64, n), ksid: make([][]byte, n), shard: make([]string, n)}
	need := int64(0)
	if ai := ins.AutoInc; ai != nil {
		noZero := false
		if mode, ok := x.s.state.Settings().Get("sql_mode"); ok && strings.Contains(strings.ToUpper(mode), "NO_AUTO_VALUE_ON_ZERO") {
			noZero = true
		}
		for i := range ins.Rows {
			if ai.Missing {
				r.fill[i] = true
			} else {
				v := ai.Values[i].Value(x.tv.Vals)
				r.fill[i] = v.IsNull() || (!noZero && isZero(v))
			}
			if r.fill[i] {
				need++
			}
		}
		if need > 0 {
			first, err := e.nextSequence(x, ai.Sequence, need)
			if err != nil {
				return nil, err
			}
			r.first = first
			next := first
			for i := range ins.Rows {
				if r.fill[i] {
					r.seq[i] = next
					next++
				}
			}
		}
	}
	snap := e.reg.Snapshot()
	ks := ins.Table.Keyspace.Name
	seen := map[string]bool{}
	for i := range ins.Rows {
		var v vindex.Value
		if ins.FromSeq[i] && r.fill[i] {
			v = vindex.Int64Value(r.seq[i])
		} else {
			v = ins.Values[i].Value(x.tv.Vals)
		}
		id, err := ins.Vindex.Hash(v)
		if err != nil {
			return nil, &mysql.MyError{Code: mysql.ER_UNKNOWN_ERROR, State: "HY000", Message: fmt.Sprintf(
				"vtdirect: INSERT into %s: the value %s of primary vindex column %s maps to no shard (vindex %s, type %s: %v)",
				ins.Table.Name, v, ins.Table.Primary().Column, ins.Vindex.Name(), ins.Vindex.Type(), err)}
		}
		sh, err := e.shardOf(snap, ks, id)
		if err != nil {
			return nil, err
		}
		r.ksid[i], r.shard[i] = id, sh
		if !seen[sh] {
			seen[sh] = true
			r.shards = append(r.shards, sh)
		}
	}
	return r, nil
}

func isZero(v vindex.Value) bool {
	switch v.Kind {
	case vindex.Int64, vindex.Uint64, vindex.Decimal, vindex.Float64:
		for _, c := range v.Raw {
			if c != '0' && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E' {
				return false
			}
		}
		return len(v.Raw) > 0
	}
	return false
}
