package drivers

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// Debian's libmariadb-java puts MariaDB Connector/J here.
const connectorJ = "/usr/share/java/mariadb-java-client.jar"

// TestConnectorJ: MariaDB Connector/J, with its default URL, with server-side prepared
// statements, and with rewritten batches. The script is compiled with javac into a temp dir.
func TestConnectorJ(t *testing.T) {
	t.Parallel()
	needFile(t, connectorJ, "MariaDB Connector/J", "libmariadb-java")
	javac := needCommand(t, "javac", "a Java compiler", "default-jdk-headless")
	java := needCommand(t, "java", "a Java runtime", "default-jdk-headless")
	classes := t.TempDir()
	cmd := exec.CommandContext(t.Context(), javac, "-nowarn", "-d", classes, "-cp", connectorJ, testdata(t, "java", "DriverScript.java"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("javac DriverScript.java: %v\n%s", err, out)
	}
	cp := classes + string(filepath.ListSeparator) + connectorJ
	for _, v := range []struct{ name, opts string }{
		{"default", ""},
		{"serverprep", "useServerPrepStmts=true"},
		{"rewritebatch", "rewriteBatchedStatements=true"},
	} {
		t.Run(v.name, func(t *testing.T) {
			runMatrix(t, "java_"+v.name, externalScript(func(t *testing.T) (string, []string, []string) {
				return java, []string{"-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", cp, "DriverScript", v.opts}, nil
			}))
		})
	}
}
