package classify

// SQLModeNames exposes the sql_mode names in bit order to mariadb_test.go.
var SQLModeNames = sqlModeNames[:]
