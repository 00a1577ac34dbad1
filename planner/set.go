package planner

import (
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"
)

// Set is a SET statement on a sharded keyspace: the gateway's own variables
// (transaction_mode), and the session variables the shards get (Forward: Plan.Query).
type Set struct {
	// TransactionMode is the new transaction_mode ("single" or "multi"), or "" (none, or
	// given by argument ModeArg, which the router checks when it runs; -1: none).
	TransactionMode string
	ModeArg         int
	Forward         bool
}

// TransactionModes vtdirect knows (vtgate's; twopc is not offered).
var TransactionModes = map[string]bool{"single": true, "multi": true}

func (b *builder) set(st *sqlparser.Set) (*Plan, error) {
	out := &Set{ModeArg: -1}
	var keep sqlparser.SetExprs
	for _, e := range st.Exprs {
		name := e.Var.Name.Lowered()
		switch e.Var.Scope {
		case sqlparser.VariableScope:
			return nil, unsupported("user variables (@%s) on a sharded keyspace (each shard would have its own); use the value itself", e.Var.Name.String())
		case sqlparser.GlobalScope, sqlparser.PersistSysScope, sqlparser.PersistOnlySysScope:
			return nil, unsupported("SET GLOBAL on a sharded keyspace (it would reach one shard); set it on each shard with an explicit target")
		case sqlparser.NextTxScope:
			return nil, unsupported("SET TRANSACTION for the next transaction on a sharded keyspace; use SET SESSION TRANSACTION ...")
		}
		if name == "transaction_mode" {
			v := strings.ToLower(strings.Trim(sqlparser.String(e.Expr), "'\""))
			if lit, ok := e.Expr.(*sqlparser.Literal); ok {
				v = strings.ToLower(lit.Val)
			}
			if arg, ok := e.Expr.(*sqlparser.Argument); ok {
				if i, ok := argIndex(arg.Name); ok {
					out.ModeArg = i // read when the plan runs
					continue
				}
			}
			if !TransactionModes[v] {
				return nil, unsupported("transaction_mode %s; use 'single' or 'multi'", sqlparser.String(e.Expr))
			}
			out.TransactionMode = v
			continue
		}
		keep = append(keep, e)
	}
	plan := &Plan{Kind: KindSet, ReadOnly: true, Set: out}
	if len(keep) == 0 {
		return plan, nil
	}
	out.Forward = true
	if len(keep) == len(st.Exprs) {
		plan.Query = b.verbatimText()
		return plan, nil
	}
	plan.Query = b.template(&sqlparser.Set{Exprs: keep})
	return plan, nil
}
