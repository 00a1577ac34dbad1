package classify

// sql_mode ORACLE: MariaDB reads a statement with another grammar (sql_yacc_ora: PL/SQL
// blocks, packages, Oracle's loops and labels) but with the same tokens as under ANSI_QUOTES:
// strings, comments and identifiers end where they do in the other grammar. So the package
// judges, under Options.Oracle, the plain statements whose meaning does not change (SELECT,
// INSERT, UPDATE, DELETE, SET, SHOW, DDL of tables...), and makes every other one KindUnknown
// with the Admin flag: a statement that starts with BEGIN (an anonymous block there, not a
// transaction), a compound statement or stored code (their bodies end elsewhere), a statement
// the package does not recognise (an Oracle label, a block), and a statement with a sequence
// operation in Oracle's spelling (seq.NEXTVAL writes the sequence, seq.CURRVAL reads this
// connection's last value of it: neither is a column, and the table ACL would not see the
// sequence) or a range (1..10, Oracle's FOR loops).
// https://mariadb.com/kb/en/sql_modeoracle/

// Reasons for statements read under sql_mode ORACLE that cannot be judged.
const (
	reasonOracleBegin    = "sql_mode ORACLE: BEGIN starts an anonymous block (a PL/SQL body the gateway does not follow), not a transaction; use START TRANSACTION"
	reasonOracleSequence = "sql_mode ORACLE: seq.NEXTVAL and seq.CURRVAL are sequence operations, which the gateway's access rules do not follow in this spelling; use NEXTVAL(seq) or LASTVAL(seq)"
	reasonOracleRange    = "sql_mode ORACLE: a range (..) belongs to a FOR loop of ORACLE's grammar, which the gateway does not follow"
)

// oracleDoubt says why st (q[st.Start:st.End], of shape sh, first keyword first), read
// under sql_mode ORACLE, cannot be judged, or "" when it reads as it does in the default
// grammar.
func oracleDoubt(q []byte, st *Statement, first keyword, sh shape, opt Options) string {
	if sh != shapePlain {
		return reasonOracleGrammar
	}
	switch st.Kind {
	case KindEmpty:
		return ""
	case KindUnknown, KindCompound, KindSignal:
		return reasonOracle
	case KindBegin:
		if first == kwBegin {
			return reasonOracleBegin
		}
	}
	tz := newTokenizerAt(q[:st.End], opt, st.Start)
	prevDot := false
	for t := tz.Next(); t.Kind != TokEOF && t.Kind != TokError; t = tz.Next() {
		switch {
		case prevDot && (t.Kind == TokWord || t.Kind == TokQuotedIdent):
			if name := identBytes(q, t); equalFold(name, "nextval") || equalFold(name, "currval") {
				return reasonOracleSequence
			}
		case t.Kind == TokOp && t.End-t.Start == 2 && q[t.Start] == '.' && q[t.Start+1] == '.':
			return reasonOracleRange
		}
		prevDot = t.Kind == TokDot
	}
	return ""
}
