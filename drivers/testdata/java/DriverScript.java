// The driver-matrix script for MariaDB Connector/J (format: drivers/transcript_test.go):
// setAutoCommit toggles, setTransactionIsolation at each level (and what the server runs),
// setReadOnly, batches, prepared statements (client-side, or server-side with
// useServerPrepStmts=true), generated keys, errors. Usage: java DriverScript [url options].
// Errors print as "error=<code> <sqlstate> <message>", with the driver's "(conn=<id>) "
// prefix removed (the backend connection id differs by construction).
import java.sql.*;
import java.util.*;

public class DriverScript {
    static final Map<String, String> E = System.getenv();
    static final List<String> out = new ArrayList<>();

    static String T(String sql) { return sql.replace("{T}", E.get("DRV_TABLE")); }
    static void line(String step, String result) { out.add(step + ": " + result); }
    static void committed(String note) { out.add("@committed " + note); }
    static void rolledBack(String note) { out.add("@rolledback " + note); }

    interface Body { String run() throws SQLException; }

    static String errText(SQLException e) {
        String msg = String.valueOf(e.getMessage()).replaceAll("\\(conn=\\d+\\) ", "");
        return "error=" + e.getErrorCode() + " " + e.getSQLState() + " " + msg.split("\n")[0];
    }

    // step runs body and records its result (unless null) or the error; it reports success.
    static boolean step(String name, Body body) {
        try {
            String r = body.run();
            if (r != null) line(name, r);
            return true;
        } catch (SQLException e) {
            line(name, errText(e));
            return false;
        }
    }

    static String rows(ResultSet rs) throws SQLException {
        StringBuilder sb = new StringBuilder("rows=[");
        int n = rs.getMetaData().getColumnCount();
        boolean first = true;
        while (rs.next()) {
            sb.append(first ? "[" : " [");
            first = false;
            for (int i = 1; i <= n; i++) {
                String v = rs.getString(i);
                sb.append(i > 1 ? " " : "").append(v == null ? "NULL" : "\"" + v + "\"");
            }
            sb.append("]");
        }
        rs.close();
        return sb.append("]").toString();
    }

    static String warnings(Statement st) throws SQLException {
        int n = 0;
        for (SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) n++;
        return " warnings=" + n;
    }

    static boolean query(Connection c, String name, String sql) {
        return step(name, () -> {
            try (Statement st = c.createStatement()) {
                String r = rows(st.executeQuery(sql));
                return r + warnings(st);
            }
        });
    }

    static boolean exec(Connection c, String name, String sql) {
        return step(name, () -> {
            try (Statement st = c.createStatement()) {
                int n = st.executeUpdate(sql);
                return "affected=" + n + warnings(st);
            }
        });
    }

    static boolean insert(Connection c, String note, int v) {
        return step("insert " + note, () -> {
            try (PreparedStatement ps = c.prepareStatement(T("INSERT INTO {T} (note, v) VALUES (?, ?)"), Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, note);
                ps.setInt(2, v);
                int n = ps.executeUpdate();
                ResultSet keys = ps.getGeneratedKeys();
                return "affected=" + n + " generated=" + rows(keys);
            }
        });
    }

    static Connection connect(String opts) throws SQLException {
        String url = "jdbc:mariadb://" + E.get("DRV_HOST") + ":" + E.get("DRV_PORT") + "/" + E.get("DRV_DB")
            + "?user=" + E.get("DRV_USER") + "&password=" + E.get("DRV_PASSWORD") + (opts.isEmpty() ? "" : "&" + opts);
        return DriverManager.getConnection(url);
    }

    public static void main(String[] args) throws Exception {
        String opts = args.length > 0 ? args[0] : "";
        try {
            run(opts);
        } finally {
            for (String l : out) System.out.println(l);
        }
    }

    static void run(String opts) throws SQLException {
        Connection[] holder = new Connection[1];
        if (!step("connect", () -> { holder[0] = connect(opts); return "ok"; })) return;
        Connection c = holder[0];
        query(c, "setup", "SELECT @@autocommit, @@tx_isolation, @@sql_mode, @@character_set_client, @@character_set_connection, "
            + "@@character_set_results, @@collation_connection, @@time_zone, DATABASE()");

        // setAutoCommit toggles.
        step("getAutoCommit", () -> String.valueOf(c.getAutoCommit()));
        step("setAutoCommit(false)", () -> { c.setAutoCommit(false); return null; });
        query(c, "@@autocommit", "SELECT @@autocommit");
        if (insert(c, "ac_off_commit", 1) && step("commit", () -> { c.commit(); return "ok"; })) committed("ac_off_commit");
        if (insert(c, "ac_off_rollback", 2) && step("rollback", () -> { c.rollback(); return "ok"; })) rolledBack("ac_off_rollback");
        if (insert(c, "ac_implicit", 3) && step("setAutoCommit(true) commits", () -> { c.setAutoCommit(true); return null; })) committed("ac_implicit");
        query(c, "@@autocommit", "SELECT @@autocommit");
        if (insert(c, "ac_on", 4)) committed("ac_on");

        // The toggle sequence on a connection of its own, then closed.
        if (step("toggle: connect", () -> { holder[0] = connect(opts); return "ok"; })) {
            Connection t = holder[0];
            step("toggle: setAutoCommit(false)", () -> { t.setAutoCommit(false); return null; });
            query(t, "toggle: query", "SELECT 1");
            step("toggle: commit", () -> { t.commit(); return "ok"; });
            step("toggle: setAutoCommit(true)", () -> { t.setAutoCommit(true); return null; });
            if (insert(t, "after_toggle", 5)) committed("after_toggle");
            step("toggle: close", () -> { t.close(); return "ok"; });
        }
        query(c, "after_toggle visible", T("SELECT COUNT(*) FROM {T} WHERE note = 'after_toggle'"));

        // setTransactionIsolation: what the server runs inside the transaction.
        int[] levels = {Connection.TRANSACTION_READ_UNCOMMITTED, Connection.TRANSACTION_READ_COMMITTED,
            Connection.TRANSACTION_REPEATABLE_READ, Connection.TRANSACTION_SERIALIZABLE};
        for (int lvl : levels) {
            step("setTransactionIsolation(" + lvl + ")", () -> { c.setTransactionIsolation(lvl); return null; });
            step("getTransactionIsolation", () -> String.valueOf(c.getTransactionIsolation()));
            step("setAutoCommit(false)", () -> { c.setAutoCommit(false); return null; });
            query(c, lvl + ": @@tx_isolation", "SELECT @@tx_isolation");
            step("commit", () -> { c.commit(); return "ok"; });
            step("setAutoCommit(true)", () -> { c.setAutoCommit(true); return null; });
        }
        step("setTransactionIsolation(back)", () -> { c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ); return null; });

        // A failing statement inside a transaction rolls back that statement only.
        step("setAutoCommit(false)", () -> { c.setAutoCommit(false); return null; });
        boolean ok = insert(c, "tx_partial", 6);
        insert(c, "tx_partial", 7);
        if (step("commit", () -> { c.commit(); return "ok"; }) && ok) committed("tx_partial");
        step("setAutoCommit(true)", () -> { c.setAutoCommit(true); return null; });

        // setReadOnly.
        step("setReadOnly(true)", () -> { c.setReadOnly(true); return null; });
        step("isReadOnly", () -> String.valueOf(c.isReadOnly()));
        query(c, "read only: @@tx_read_only", "SELECT @@tx_read_only");
        insert(c, "read_only", 8);
        step("setReadOnly(false)", () -> { c.setReadOnly(false); return null; });
        query(c, "@@tx_read_only", "SELECT @@tx_read_only");

        // Batches: a prepared statement's (rewritten, bulk or one by one) and a statement's.
        step("prepared batch", () -> {
            try (PreparedStatement ps = c.prepareStatement(T("INSERT INTO {T} (note, v) VALUES (?, ?)"))) {
                for (int i = 1; i <= 3; i++) {
                    ps.setString(1, "batch_" + i);
                    ps.setInt(2, 10 + i);
                    ps.addBatch();
                }
                String r = "counts=" + Arrays.toString(ps.executeBatch());
                for (int i = 1; i <= 3; i++) committed("batch_" + i);
                return r;
            }
        });
        step("statement batch", () -> {
            try (Statement st = c.createStatement()) {
                st.addBatch(T("INSERT INTO {T} (note, v) VALUES ('sbatch_1', 21)"));
                st.addBatch(T("UPDATE {T} SET v = v + 1 WHERE note LIKE 'batch%'"));
                String r = "counts=" + Arrays.toString(st.executeBatch());
                committed("sbatch_1");
                return r;
            }
        });
        step("batch with duplicate", () -> {
            try (PreparedStatement ps = c.prepareStatement(T("INSERT INTO {T} (note, v) VALUES (?, ?)"))) {
                for (String n : new String[] {"dbatch_1", "batch_1", "dbatch_2"}) {
                    ps.setString(1, n);
                    ps.setInt(2, 30);
                    ps.addBatch();
                }
                return "counts=" + Arrays.toString(ps.executeBatch());
            } catch (BatchUpdateException e) {
                return errText(e) + " counts=" + Arrays.toString(e.getUpdateCounts());
            }
        });

        // Generated keys and LAST_INSERT_ID().
        if (insert(c, "lid_1", 40)) committed("lid_1");
        query(c, "LAST_INSERT_ID()", "SELECT LAST_INSERT_ID()");
        step("prepared select", () -> {
            try (PreparedStatement ps = c.prepareStatement(T("SELECT note, v, v * 1.5 FROM {T} WHERE v >= ? AND note LIKE ? ORDER BY id"))) {
                ps.setInt(1, 11);
                ps.setString(2, "batch%");
                return rows(ps.executeQuery());
            }
        });
        step("prepared parameters", () -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT ? + 1, ?, ?")) {
                ps.setInt(1, 41);
                ps.setString(2, "x'y\\z");
                ps.setNull(3, Types.VARCHAR);
                return rows(ps.executeQuery());
            }
        });
        step("prepared error", () -> {
            try (PreparedStatement ps = c.prepareStatement(T("SELECT nope FROM {T} WHERE v = ?"))) {
                ps.setInt(1, 1);
                return rows(ps.executeQuery());
            }
        });

        // Errors after which the session goes on.
        insert(c, "ac_on", 50);
        query(c, "after duplicate", "SELECT 1");
        query(c, "syntax error", "SELEC 1");
        query(c, "after syntax error", "SELECT 2");
        query(c, "warning", "SELECT CAST('1x' AS SIGNED)");
        exec(c, "update unchanged", T("UPDATE {T} SET v = v WHERE note = 'ac_on'"));
        exec(c, "SET @uv", "SET @uv = 42");
        query(c, "@uv", "SELECT @uv");
        query(c, "final rows", T("SELECT id, note, v FROM {T} ORDER BY id"));
        c.close();
    }
}
