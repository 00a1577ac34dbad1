"""The driver-matrix script for SQLAlchemy Core (its default MySQL DBAPI, mysqlclient), with
its pool: connections go back to the pool (and are reset) between blocks."""
from sqlalchemy import create_engine, text
from sqlalchemy.pool import QueuePool

from drvlib import ENV, SETUP_QUERY, T, committed, err_text, line, main, rolled_back, step


def url(user=None, password=None):
    return "mysql://%s:%s@%s:%s/%s?charset=utf8mb4" % (
        user or ENV["DRV_USER"], password or ENV["DRV_PASSWORD"], ENV["DRV_HOST"], ENV["DRV_PORT"], ENV["DRV_DB"])


def rows(conn, name, sql, **params):
    return step(name, lambda: "rows=%r" % ([tuple(r) for r in conn.execute(text(sql), params)],))


def execute(conn, name, sql, params=None):
    def run():
        res = conn.execute(text(sql), params or {})
        lastrowid = getattr(res, "lastrowid", None)
        return "affected=%s lastrowid=%s" % (res.rowcount, lastrowid)
    return step(name, run)[0]


def insert(conn, note, v):
    return execute(conn, "insert " + note, T("INSERT INTO {T} (note, v) VALUES (:n, :v)"), {"n": note, "v": v})


def run():
    engine = create_engine(url(), poolclass=QueuePool, pool_size=2, max_overflow=0)
    try:
        conn = engine.connect()  # the dialect's set-up queries run here
    except Exception as e:
        line("connect", err_text(e))
        return
    line("connect", "ok")
    step("dialect isolation", lambda: engine.dialect.get_isolation_level(conn.connection))
    rows(conn, "setup", SETUP_QUERY)

    # engine.begin(): a transaction committed at the end of the block, or rolled back on error.
    with conn.begin():
        ok = insert(conn, "tx_commit", 1)
    if ok:
        committed("tx_commit")
    trans = conn.begin()
    if insert(conn, "tx_rollback", 2):
        trans.rollback()
        line("rollback", "ok")
        rolled_back("tx_rollback")
    else:
        trans.rollback()
    trans = conn.begin()
    ok = insert(conn, "tx_partial", 3)
    insert(conn, "tx_partial", 4)
    trans.commit()
    line("commit after error", "ok")
    if ok:
        committed("tx_partial")

    # The AUTOCOMMIT isolation level (the DBAPI's autocommit(True)) and back.
    ac = conn.execution_options(isolation_level="AUTOCOMMIT")
    rows(ac, "AUTOCOMMIT: @@autocommit", "SELECT @@autocommit")
    if insert(ac, "ac_on", 5):
        committed("ac_on")
    conn.close()
    line("returned to pool", "ok")

    # Isolation levels through execution_options (SET SESSION TRANSACTION ISOLATION LEVEL),
    # reset when the connection returns to the pool.
    for lvl in ("READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"):
        with engine.connect() as c:
            c = c.execution_options(isolation_level=lvl)
            with c.begin():
                rows(c, lvl + ": @@tx_isolation", "SELECT @@tx_isolation")
    with engine.connect() as c:
        rows(c, "after pool reset: @@tx_isolation, @@autocommit", "SELECT @@tx_isolation, @@autocommit")
        with c.begin():
            if insert(c, "lid_1", 20):
                committed("lid_1")
            rows(c, "LAST_INSERT_ID()", "SELECT LAST_INSERT_ID()")
        insert(c, "ac_on", 21)  # duplicate key
        rows(c, "after duplicate", "SELECT 1")
        rows(c, "syntax error", "SELEC 1")
        rows(c, "after syntax error", "SELECT 2")
        with c.begin():
            rows(c, "bound parameters", "SELECT :a + 1, :b, :c", a=41, b="x'y", c=None)
            rows(c, "final rows", T("SELECT id, note, v FROM {T} ORDER BY id"))
    engine.dispose()


main(run)
