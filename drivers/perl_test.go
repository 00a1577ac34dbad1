package drivers

import "testing"

// TestPerlDBDMariaDB: Perl DBI with DBD::MariaDB (over libmariadb).
func TestPerlDBDMariaDB(t *testing.T) {
	t.Parallel()
	perl := needCommand(t, "perl", "Perl", "perl")
	needCheck(t, "Perl's DBD::MariaDB", "libdbd-mariadb-perl", perl, "-MDBD::MariaDB", "-e", "1")
	runMatrix(t, "perl_dbd", externalScript(func(t *testing.T) (string, []string, []string) {
		return perl, []string{testdata(t, "perl", "dbd_mariadb.pl")}, nil
	}))
}
