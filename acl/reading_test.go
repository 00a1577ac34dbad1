package acl

import (
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The bypasses of issue 13's rules a security review found (spellings that act beyond the
// session, or whose text cannot be judged): refused for a user that is not an admin, allowed
// for an admin.
func TestReviewBypasses(t *testing.T) {
	p := testPolicy(t, nil)
	denied := []string{
		// After a SET of sql_mode or the client character set to a value the classifier cannot
		// know, the rest of the query cannot be judged.
		"SET sql_mode=CONCAT('ANSI_QUOTES',''); SELECT 1", "set sql_mode = @m; select 1", "SET sql_mode = DEFAULT; SELECT 1",
		"SET character_set_client=28; SELECT 1", "set character_set_client = concat('gb','k'); select 1", "SET NAMES DEFAULT; SELECT 1",
		"SET @x=1 /*!50700 , sql_mode='ANSI_QUOTES' */; SELECT 1", "SET sql_mode=ORACLE; BEGIN WORK", "set sql_mode = 512; select s.nextval",
		`SET sql_mode=1048576; SELECT 'a\'; SELECT user,password FROM mysql.user; -- '`,
		`SET @x=1 /*!50700 , sql_mode='ANSI_QUOTES' */; SELECT "x\" , 1 -- " , (SELECT password FROM mysql.user)`,
		"EXECUTE IMMEDIATE 'SET sql_mode=4'; SELECT 1", "execute s; select 1", "BEGIN NOT ATOMIC SET NAMES gbk; END; SELECT 1",
		// The text of PREPARE | EXECUTE IMMEDIATE under SET STATEMENT's options.
		`SET STATEMENT sql_mode='ANSI_QUOTES' FOR EXECUTE IMMEDIATE 'SELECT password FROM "mysql".user WHERE user=''vt_dba'''`,
		`set statement sql_mode='NO_BACKSLASH_ESCAPES' for prepare s from 'select ''\\'' , (select password from mysql.user) -- '''`,
		"SET STATEMENT sql_mode=CONCAT('ANSI','_QUOTES') FOR EXECUTE IMMEDIATE 'SELECT 1'",
		"BEGIN NOT ATOMIC SET sql_mode='ANSI_QUOTES'; EXECUTE IMMEDIATE 'SELECT 1'; END",
		// Other accounts' secrets, other sessions' changes, the replication state.
		"SHOW GRANTS FOR vt_dba@'%'", "show grants", "SHOW GRANTS FOR CURRENT_USER()", "show create user vt_dba", "SHOW CREATE USER CURRENT_USER()", "show grants for root",
		"SHOW BINLOG EVENTS", "show master status", "SHOW BINARY LOGS", "show slave status", "SHOW ALL SLAVES STATUS",
		"show user_statistics", "SHOW CLIENT_STATISTICS", "show index_statistics", "show relaylog events",
		"XA RECOVER", "xa recover format='SQL'",
		// sql_mode ORACLE's stored code and anonymous blocks.
		"CREATE PACKAGE BODY pk1 AS PROCEDURE p1 AS BEGIN EXECUTE IMMEDIATE 'SHUTDOWN'; END; END",
		"create or replace package pk1 as procedure p1; end", "DROP PACKAGE pk1", "drop package body pk1",
		"BEGIN SET GLOBAL read_only = 0; END", "DECLARE a INT; BEGIN SET GLOBAL read_only = 0; END",
		// Spaces and comments around the dot of @@global.
		"SET @@global .wait_timeout=5", "set @@global/**/./**/wait_timeout = 5", "SET @@GLOBAL. `wait_timeout` = 5",
	}
	for _, q := range denied {
		code, err := check(p, "app", q, primary, false)
		if code != mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR {
			t.Errorf("app %q: %v, want 1227", q, err)
		} else if !strings.Contains(err.Error(), `"Admin": true`) {
			t.Errorf("app %q: message %q does not say what allows it", q, err)
		}
		if code, err := check(p, "ops", q, primary, false); code != 0 {
			t.Errorf("ops (admin) %q: %v", q, err)
		}
	}
	allowed := []string{
		"SET sql_mode=4; SELECT 1",
		"set sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'; select 1", "SET NAMES gbk; SELECT 1", "set @@session .wait_timeout = 5",
		"prepare s from 'select 1'; execute s; deallocate prepare s", "XA START 'a'", "xa commit 'a'",
		"SET sql_mode=ORACLE; SELECT 1", "set sql_mode = 512; select 'a' || 'b'",
	}
	for _, q := range allowed {
		if code, err := check(p, "app", q, primary, false); code != 0 {
			t.Errorf("app %q: %v", q, err)
		}
	}
}

// The statements of a query are each checked under the options MariaDB reads them with: a
// SET of sql_mode before them (as a literal or a number), or a SET STATEMENT around the text
// of EXECUTE IMMEDIATE | PREPARE, makes "vt_other" a database name.
func TestReadingOptions(t *testing.T) {
	p := testPolicy(t, nil)
	for _, q := range []string{
		`SET sql_mode='ANSI_QUOTES'; SELECT * FROM "vt_other".t`,
		`SET sql_mode=4; SELECT * FROM "vt_other".t`,
		`set sql_mode = 262144; select * from "vt_other".t`,
		`SET STATEMENT sql_mode='ANSI_QUOTES' FOR EXECUTE IMMEDIATE 'SELECT * FROM "vt_other".t'`,
		`set statement sql_mode = 4 for prepare s from 'select * from "vt_other".t'`,
	} {
		if code, err := check(p, "report", q, replica, false); code != mysql.ER_DBACCESS_DENIED_ERROR {
			t.Errorf("report %q: %v, want 1044", q, err)
		}
	}
	if code, err := check(p, "report", `SET sql_mode=''; SELECT * FROM "vt_other".t`, replica, false); code != 0 {
		t.Errorf(`report "vt_other" as a string: %v`, err)
	}
}
