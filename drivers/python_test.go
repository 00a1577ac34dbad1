package drivers

import "testing"

// Debian's python3 (its dist-packages hold the python3-* driver packages; a python3 earlier
// on PATH, such as pyenv's, does not see them).
const debianPython = "/usr/bin/python3"

func needPython(t *testing.T, module, pkg string) {
	t.Helper()
	needFile(t, debianPython, "Debian's python3", "python3")
	needCheck(t, "the Python module "+module, pkg, debianPython, "-c", "import "+module)
}

// TestPyMySQL: PyMySQL, whose autocommit() and get_autocommit() trust the server's status
// flags.
func TestPyMySQL(t *testing.T) {
	t.Parallel()
	needPython(t, "pymysql", "python3-pymysql")
	runMatrix(t, "pymysql", pythonScript("dbapi_script.py", "pymysql"))
}

// TestMySQLdb: mysqlclient (MySQLdb, over libmariadb), with COM_CHANGE_USER.
func TestMySQLdb(t *testing.T) {
	t.Parallel()
	needPython(t, "MySQLdb", "python3-mysqldb")
	runMatrix(t, "mysqldb", pythonScript("dbapi_script.py", "MySQLdb"))
}

// TestSQLAlchemy: SQLAlchemy Core over mysqlclient, with its dialect's set-up, its pool and
// its isolation-level execution options.
func TestSQLAlchemy(t *testing.T) {
	t.Parallel()
	needPython(t, "MySQLdb", "python3-mysqldb")
	needPython(t, "sqlalchemy", "python3-sqlalchemy")
	runMatrix(t, "sqlalchemy", pythonScript("sqlalchemy_script.py"))
}

func pythonScript(file string, args ...string) scriptFunc {
	return externalScript(func(t *testing.T) (string, []string, []string) {
		return debianPython, append([]string{testdata(t, "python", file)}, args...), []string{"PYTHONDONTWRITEBYTECODE=1"}
	})
}
