"""Transcript helpers shared by the Python driver scripts (format: drivers/transcript_test.go).

Each line is "<step>: <result>". Errors print as "error=<code> <message>" (the DB-API drivers
give the MySQL error code and message in exc.args). Rows print with repr() of the driver's own
Python values, so both runs of one driver print them alike.
"""
import os
import sys

ENV = {k: os.environ[k] for k in (
    "DRV_HOST", "DRV_PORT", "DRV_USER", "DRV_PASSWORD", "DRV_DB", "DRV_TABLE",
    "DRV_OTHER_USER", "DRV_OTHER_PASSWORD")}
TABLE = ENV["DRV_TABLE"]

SETUP_QUERY = ("SELECT @@autocommit, @@tx_isolation, @@sql_mode, @@character_set_client, "
               "@@character_set_connection, @@character_set_results, @@collation_connection, "
               "@@time_zone, DATABASE()")


def T(sql):
    """Statements name the run's table {T}."""
    return sql.replace("{T}", TABLE)


def line(step, result):
    print("%s: %s" % (step, result), flush=True)


def committed(note):
    print("@committed " + note, flush=True)


def rolled_back(note):
    print("@rolledback " + note, flush=True)


def err_text(e):
    args = getattr(e, "orig", e).args  # SQLAlchemy wraps the DB-API error in .orig
    if len(args) >= 2 and isinstance(args[0], int):
        return "error=%d %s" % (args[0], args[1])
    return "error: %s %s" % (type(e).__name__, e)


def step(name, fn):
    """Runs fn; prints its result, or the error. Returns (ok, result)."""
    try:
        res = fn()
    except Exception as e:  # the driver's errors are part of the transcript
        line(name, err_text(e))
        return False, None
    if res is not None:
        line(name, res)
    return True, res


def main(run):
    try:
        run()
    except Exception:
        import traceback
        traceback.print_exc()
        sys.exit(1)
