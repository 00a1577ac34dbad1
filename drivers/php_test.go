package drivers

import "testing"

func needPHP(t *testing.T, ext string) string {
	t.Helper()
	php := needCommand(t, "php", "PHP's command line", "php-cli php-mysql")
	needCheck(t, "PHP's "+ext+" extension", "php-mysql", php, "-r", "exit(extension_loaded('"+ext+"') ? 0 : 1);")
	return php
}

// TestPHPPDO: PDO's pdo_mysql (mysqlnd).
func TestPHPPDO(t *testing.T) {
	t.Parallel()
	php := needPHP(t, "pdo_mysql")
	runMatrix(t, "php_pdo", phpScript(php, "pdo.php"))
}

// TestPHPMysqli: mysqli (mysqlnd), with COM_CHANGE_USER and persistent connections.
func TestPHPMysqli(t *testing.T) {
	t.Parallel()
	php := needPHP(t, "mysqli")
	runMatrix(t, "php_mysqli", phpScript(php, "mysqli.php"))
}

func phpScript(php, file string) scriptFunc {
	return externalScript(func(t *testing.T) (string, []string, []string) {
		return php, []string{"-d", "display_errors=stderr", testdata(t, "php", file)}, nil
	})
}
