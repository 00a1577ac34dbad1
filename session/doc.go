// Package session owns the state of one client session of the gateway and the rules of what
// each statement and each reply do to it. It is pure: no I/O, no goroutines, no clock. The router
// (its executor) drives it: before a statement it asks for a Plan (refuse it? must the session
// keep its backend connection afterwards? which per-connection results does the statement read,
// and what must run first on a connection that does not hold them?), it runs the statement on a
// backend connection, and it hands the reply's facts to Apply, whose Outcome says whether the
// session keeps the connection, gives it back clean, or must have it reset.
//
// The rule it keeps: a session's observable behaviour through the gateway equals a dedicated
// connection to the tablet's MySQL. What makes that possible over shared backend connections:
//
//   - Settings: the exact values of the system variables the session changed, learnt from the
//     server itself (MariaDB's session tracking, CLIENT_SESSION_TRACK with
//     session_track_system_variables='*' on every backend connection) and, for the few
//     variables the tracker does not report, from the SET statement's literal values. They are
//     replayed, as one SET, on any connection that later serves the session. autocommit is one
//     of them: backend connections run with the session's own autocommit, so the status flags
//     MariaDB sends are the session's.
//   - Holds: state that cannot be replayed (an open transaction, user variables, temporary
//     tables, locks, SQL prepared statements, HANDLERs, one-shot variables, anything the
//     tracker reports that the gateway cannot explain) keeps the backend connection with the
//     session until that state is gone; state that is never provably gone (user variables...)
//     keeps it until COM_RESET_CONNECTION or the end of the session, after which the
//     connection is reset before another session may use it.
//   - Per-connection results (LAST_INSERT_ID(), FOUND_ROWS(), ROW_COUNT(), warnings): tracked
//     from replies. A released connection stays the session's preferred one (the pool hands it
//     to others last), so the next statement usually finds its results where they are; when it
//     does not, Restore gives the statements that recreate them on another connection.
//
// Example (the executor's loop, much simplified):
//
//	st := session.New(session.Defaults{Autocommit: true})
//	plan, err := st.Plan(&stmt)           // stmt: what the classifier said of the query
//	if err != nil { return client.WriteError(err) }
//	conn := held or pool.Get(..., plan.Hold)
//	pre := st.Restore(plan.Needs, connHasResults)
//	reply := conn.Exec(pre..., query)
//	out := st.Apply(&stmt, &reply)
//	if out.Ping { status := conn.Ping(); st.ApplyStatus(status) }
//	if !out.Hold { conn.Release(out.Dirty) }
package session
