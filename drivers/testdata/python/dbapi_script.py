"""The driver-matrix script for the DB-API drivers PyMySQL and mysqlclient (MySQLdb).

Usage: dbapi_script.py pymysql|MySQLdb. Neither driver has server-side prepared statements:
parameters are quoted by the driver (execute with args, executemany).
"""
import sys

from drvlib import ENV, SETUP_QUERY, T, committed, line, main, rolled_back, step

MODULE = sys.argv[1]
if MODULE == "pymysql":
    import pymysql as db
else:
    import MySQLdb as db


def connect(**kw):
    args = dict(host=ENV["DRV_HOST"], port=int(ENV["DRV_PORT"]), user=ENV["DRV_USER"],
                password=ENV["DRV_PASSWORD"], database=ENV["DRV_DB"], charset="utf8mb4")
    if MODULE == "MySQLdb":
        args["passwd"] = args.pop("password")
        args["db"] = args.pop("database")
    args.update(kw)
    return db.connect(**args)


def query(conn, name, sql, args=None):
    def run():
        cur = conn.cursor()
        cur.execute(sql, args)
        rows = [tuple(r) for r in cur.fetchall()]
        cur.close()
        return "rows=%r" % (rows,)
    return step(name, run)


def execute(conn, name, sql, args=None, many=False):
    def run():
        cur = conn.cursor()
        n = cur.executemany(sql, args) if many else cur.execute(sql, args)
        res = "affected=%s lastrowid=%s insert_id=%s" % (n, cur.lastrowid, conn.insert_id())
        cur.close()
        return res
    return step(name, run)[0]


def status(conn, name):
    """The driver's own view of the session, from the server's status flags."""
    line(name + " driver autocommit", conn.get_autocommit())


def insert(conn, note, v):
    return execute(conn, "insert " + note, T("INSERT INTO {T} (note, v) VALUES (%s, %s)"), (note, v))


def run():
    conn = connect()
    query(conn, "setup", SETUP_QUERY)
    status(conn, "setup")

    # Autocommit toggles with the driver's API.
    step("autocommit(False)", lambda: conn.autocommit(False))
    status(conn, "after autocommit(False)")
    query(conn, "@@autocommit", "SELECT @@autocommit")
    if insert(conn, "ac_off_commit", 1) and step("commit", conn.commit)[0]:
        committed("ac_off_commit")
    if insert(conn, "ac_off_rollback", 2) and step("rollback", conn.rollback)[0]:
        rolled_back("ac_off_rollback")
    status(conn, "after rollback")
    step("autocommit(True)", lambda: conn.autocommit(True))
    status(conn, "after autocommit(True)")
    query(conn, "@@autocommit", "SELECT @@autocommit")
    if insert(conn, "ac_on", 3):
        committed("ac_on")

    # The sequence users run: autocommit(False), a query, commit, autocommit(True), a write,
    # close. The write must be there.
    c2 = connect()
    step("toggle: autocommit(False)", lambda: c2.autocommit(False))
    query(c2, "toggle: query", "SELECT 1")
    step("toggle: commit", c2.commit)
    step("toggle: autocommit(True)", lambda: c2.autocommit(True))
    status(c2, "toggle")
    if insert(c2, "after_toggle", 4):
        committed("after_toggle")
    step("toggle: close", c2.close)
    query(conn, "after_toggle visible", T("SELECT COUNT(*) FROM {T} WHERE note = 'after_toggle'"))

    # Transactions: begin/commit, begin/rollback, a failing statement inside one.
    b = connect()
    step("begin", conn.begin)
    if insert(conn, "tx_commit", 5) and step("commit", conn.commit)[0]:
        committed("tx_commit")
    step("begin", conn.begin)
    if insert(conn, "tx_rollback", 6) and step("rollback", conn.rollback)[0]:
        rolled_back("tx_rollback")
    step("begin", conn.begin)
    ok = insert(conn, "tx_partial", 7)
    insert(conn, "tx_partial", 8)  # duplicate: that statement only is rolled back
    if step("commit", conn.commit)[0] and ok:
        committed("tx_partial")
    step("begin", conn.begin)
    ok = insert(conn, "two_a", 9)
    query(b, "b sees two_a", T("SELECT COUNT(*) FROM {T} WHERE note = 'two_a'"))
    if step("commit", conn.commit)[0] and ok:
        committed("two_a")
    query(b, "b sees two_a", T("SELECT COUNT(*) FROM {T} WHERE note = 'two_a'"))

    # Isolation levels (no driver API: SQL), what the server runs inside the transaction.
    for lvl in ("READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"):
        execute(conn, "set " + lvl, "SET SESSION TRANSACTION ISOLATION LEVEL " + lvl)
        step("begin", conn.begin)
        query(conn, lvl + ": @@tx_isolation", "SELECT @@tx_isolation")
        step("commit", conn.commit)
    execute(conn, "isolation back", "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    execute(conn, "next transaction only", "SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
    step("begin", conn.begin)
    query(conn, "next: @@tx_isolation", "SELECT @@tx_isolation")
    step("commit", conn.commit)

    # Last insert id: the driver's (cursor.lastrowid, conn.insert_id()) and the server's.
    if insert(conn, "lid_1", 20):
        committed("lid_1")
    query(conn, "LAST_INSERT_ID()", "SELECT LAST_INSERT_ID()")
    if execute(conn, "executemany", T("INSERT INTO {T} (note, v) VALUES (%s, %s)"),
               [("lid_2", 21), ("lid_3", 22)], many=True):
        committed("lid_2")
        committed("lid_3")
    query(conn, "LAST_INSERT_ID()", "SELECT LAST_INSERT_ID()")
    query(b, "other session LAST_INSERT_ID()", "SELECT LAST_INSERT_ID()")
    query(conn, "parameters", "SELECT %s + 1, %s, %s, %s", (41, "x'y\\z", None, 2.5))

    # Errors after which the session goes on.
    insert(conn, "ac_on", 30)
    query(conn, "after duplicate", "SELECT 1")
    query(conn, "syntax error", "SELEC 1")
    query(conn, "after syntax error", "SELECT 2")
    query(conn, "warning", "SELECT CAST('1x' AS SIGNED)")
    line("driver warning_count", conn.warning_count() if MODULE == "MySQLdb" else "n/a")
    query(conn, "SHOW WARNINGS", "SHOW WARNINGS")
    execute(conn, "update unchanged", T("UPDATE {T} SET v = v WHERE note = 'ac_on'"))

    # Session state: user variables, sql_mode, a temporary table.
    execute(conn, "SET @uv", "SET @uv = 42")
    execute(conn, "SET sql_mode", "SET SESSION sql_mode = 'ANSI_QUOTES'")
    query(b, "other session", "SELECT @uv, @@sql_mode")
    query(conn, "@uv, @@sql_mode", "SELECT @uv, @@sql_mode")
    execute(conn, "sql_mode back", "SET SESSION sql_mode = DEFAULT")
    execute(conn, "temporary table", T("CREATE TEMPORARY TABLE {T}_tmp (x INT)"))
    execute(conn, "insert temporary", T("INSERT INTO {T}_tmp VALUES (1), (2)"))
    query(b, "other session temporary", T("SELECT COUNT(*) FROM {T}_tmp"))
    query(conn, "own temporary", T("SELECT COUNT(*) FROM {T}_tmp"))
    query(conn, "non-ascii", "SELECT %s, HEX(%s)", ("ünï€", "ünï€"))
    if MODULE == "MySQLdb":
        # COM_CHANGE_USER: a new session (variables, temporary tables gone).
        step("change_user", lambda: conn.change_user(ENV["DRV_OTHER_USER"], ENV["DRV_OTHER_PASSWORD"], ENV["DRV_DB"]))
        query(conn, "after change_user", "SELECT @uv, @@autocommit")
        query(conn, "temporary after change_user", T("SELECT COUNT(*) FROM {T}_tmp"))
    query(conn, "final rows", T("SELECT id, note, v FROM {T} ORDER BY id"))
    b.close()
    conn.close()


main(run)
