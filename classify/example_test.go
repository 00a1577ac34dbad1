package classify_test

import (
	"fmt"

	"github.com/vtdirect/vtdirect/classify"
)

func ExampleAnalyze() {
	q := []byte("SELECT c FROM sbtest1 WHERE id = 1 FOR UPDATE")
	res := classify.Analyze(q, classify.Options{})
	fmt.Println(res.Count, res.First.Kind, res.Flags, res.ReadOnly)

	q = []byte("/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE */; SET GLOBAL max_connections = 500")
	res = classify.Analyze(q, classify.Options{})
	fmt.Println(res.Count, res.Kinds, res.Flags, res.ReadOnly)
	fmt.Println(res.Reason)
	// Output:
	// 1 select for_update false
	// 2 set writes_user_var|admin false
	// SET GLOBAL changes the server's settings
}

func ExampleStatements() {
	q := []byte("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END; CALL p(@x); USE `db``1`")
	for st := range classify.Statements(q, classify.Options{}) {
		fmt.Printf("%-5s %-28q %s %q\n", st.Kind, q[st.Start:st.End], st.Flags, st.Name)
	}
	// Output:
	// ddl   "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END" admin ""
	// call  " CALL p(@x)"                writes_user_var|reads_user_var|call ""
	// use   " USE `db``1`"                "db`1"
}

func ExampleAnalyze_set() {
	q := []byte("SET NAMES utf8mb4, SESSION sql_mode = 'ANSI_QUOTES', @@global.wait_timeout = 60")
	for _, a := range classify.Analyze(q, classify.Options{}).First.Set.Assignments {
		fmt.Println(a.Scope, a.Name, a.Value)
	}
	// Output:
	// session names utf8mb4
	// session sql_mode ANSI_QUOTES
	// global wait_timeout 60
}
