package session

import "strconv"

// Restore returns the statements that recreate, on a backend connection that does not have
// them, the per-connection results a statement needs (nil when owns: the connection is the
// one that produced them). They are sent right before the statement, their replies
// discarded. What cannot be recreated exactly:
//   - ROW_COUNT() after a DML that changed rows (no side-effect-free statement sets it):
//     the statement sees 0;
//   - warnings of a statement that had several or non-error ones, and FOUND_ROWS() after
//     SQL_CALC_FOUND_ROWS, when another session took the connection meanwhile: the statement
//     sees none / what the restore gives. The pool hands a session's last connection to
//     others only when it has nothing else, so this happens only on a saturated pool.
func (s *State) Restore(needs Needs, owns bool) []string {
	if owns || needs == 0 {
		return nil
	}
	res := &s.results
	var out []string
	if needs&NeedLastInsertID != 0 {
		out = append(out, "SET last_insert_id = "+strconv.FormatUint(res.LastInsertID, 10))
	}
	wantSelect := needs&NeedFoundRows != 0 || (needs&NeedRowCount != 0 && res.RowCount < 0)
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
		}
	}
	return out
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
