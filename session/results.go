package session

import "strconv"

// Restore returns the statements that recreate, on a backend connection, the per-connection
// results a statement needs that the connection does not have exactly (exact says which it has:
// see Exact). They are sent right before the statement, their replies
// discarded. What cannot be recreated exactly:
//   - ROW_COUNT() after a DML that changed rows (no side-effect-free statement sets it):
//     the statement sees 0;
//   - warnings of a statement that had several or non-error ones, and FOUND_ROWS() after
//     SQL_CALC_FOUND_ROWS, when another session took the connection meanwhile: the statement
//     sees none / what the restore gives. The pool hands a session's last connection to
//     others only when it has nothing else, so this happens only on a saturated pool.
func (s *State) Restore(needs Needs, exact Needs) []string {
	out, _, _ := s.RestoreFor(needs, exact)
	return out
}

// RestoreFor is Restore, also saying which results the statements recreate and which they
// replace by something else (the empty SELECT that clears the diagnostics area sets
// FOUND_ROWS() to 0).
func (s *State) RestoreFor(needs Needs, exact Needs) (out []string, restored, clobbered Needs) {
	needs &^= exact
	if needs == 0 {
		return nil, 0, 0
	}
	restored = needs
	res := &s.results
	if needs&NeedLastInsertID != 0 {
		out = append(out, "SET last_insert_id = "+strconv.FormatUint(res.LastInsertID, 10))
	}
	wantSelect := needs&NeedFoundRows != 0 || (needs&NeedRowCount != 0 && res.RowCount < 0)
	if wantSelect && !(res.FoundRowsKnown && s.def.Sequence) {
		restored &^= NeedFoundRows
	}
	if wantSelect && res.FoundRowsKnown && s.def.Sequence {
		// FOUND_ROWS() = N and ROW_COUNT() = -1, with an empty result.
		if res.FoundRows == 0 {
			out = append(out, "SELECT SQL_CALC_FOUND_ROWS 1 FROM DUAL WHERE 0")
		} else {
			out = append(out, "SELECT SQL_CALC_FOUND_ROWS 1 FROM seq_1_to_"+strconv.FormatUint(res.FoundRows, 10)+" LIMIT 0")
		}
	}
	if needs&NeedRowCount != 0 && res.RowCount >= 0 {
		out = append(out, "DO 0") // ROW_COUNT() = 0, FOUND_ROWS() unchanged
		if res.RowCount > 0 {
			restored &^= NeedRowCount // no statement sets it to a number of changed rows
		}
	}
	if needs&NeedDiagnostics != 0 {
		switch {
		case res.Err != nil:
			// The diagnostics area held this error: SIGNAL puts it back as it was (the
			// SIGNAL's own ERR reply is discarded).
			out = append(out, signal(res.Err.State, res.Err.Code, res.Err.Message))
		case !wantSelect && s.def.Sequence:
			// An empty diagnostics area: only a statement that opens a table empties it
			// (the FOUND_ROWS() restore above does too). First, so that SET and DO follow it.
			out = append([]string{"SELECT 1 FROM seq_1_to_1 LIMIT 0"}, out...)
			clobbered |= NeedFoundRows
		case !wantSelect:
			restored &^= NeedDiagnostics
		}
		if res.Warnings > 0 && res.Err == nil {
			restored &^= NeedDiagnostics // warnings cannot be raised again
		}
	}
	return out, restored, clobbered
}

// signal is a SIGNAL statement raising an error condition.
func signal(state string, code uint16, msg string) string {
	if len(state) != 5 {
		state = "HY000"
	}
	return "SIGNAL SQLSTATE '" + state + "' SET MYSQL_ERRNO = " + strconv.Itoa(int(code)) +
		", MESSAGE_TEXT = " + sqlString(msg)
}

// sqlString quotes s as a string literal that means the same whatever the sql_mode.
func sqlString(s string) string {
	if needsHex(s) {
		return hexLiteral(s)
	}
	return "'" + s + "'"
}

// AllNeeds is every per-connection result.
const AllNeeds = NeedLastInsertID | NeedFoundRows | NeedRowCount | NeedDiagnostics

// Exact says which of the session's per-connection results a connection has exactly after a
// statement ran on it: before are those it had (nothing, for a connection that was not the
// session's last), restored those Restore recreated first. LAST_INSERT_ID() stays until an
// insert generates one; ROW_COUNT() is every statement's; FOUND_ROWS() is set by every result
// set; the diagnostics area by a statement that opens a table or raises a condition.
func (s *State) Exact(st *Statement, r *Reply, before, restored Needs) Needs {
	had := before | restored
	out := NeedRowCount
	if had&NeedLastInsertID != 0 || r.LastInsertID != 0 {
		out |= NeedLastInsertID
	}
	if had&NeedFoundRows != 0 || r.ResultSet {
		out |= NeedFoundRows
	}
	if had&NeedDiagnostics != 0 || replacesDiagnostics(st, r) {
		out |= NeedDiagnostics
	}
	return out
}
