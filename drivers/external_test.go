package drivers

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// installHint is what `make test` runs to install the driver packages.
const installHint = "run `make test` (it installs them) or `VTDIRECT_NEED_DRIVERS=1 ./scripts/deps.sh`"

// needFile fails the test, loudly and with the command that installs it, when a file a
// driver needs (an executable, a jar, a module) is missing. It never skips.
func needFile(t *testing.T, path, what, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is not installed (%s missing): apt-get install -y %s, or %s", what, path, pkg, installHint)
	}
}

// needCommand is needFile for a command on PATH; it returns its path.
func needCommand(t *testing.T, name, what, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (no %s on PATH): apt-get install -y %s, or %s", what, name, pkg, installHint)
	}
	return p
}

// needCheck runs a command that proves a driver is importable (python3 -c 'import x', perl
// -MDBD::MariaDB -e1, php -r ...) and fails the test with the install command when it fails.
func needCheck(t *testing.T, what, pkg string, name string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s is not installed (%s %s: %v: %s): apt-get install -y %s, or %s",
			what, name, strings.Join(args, " "), err, bytes.TrimSpace(out), pkg, installHint)
	}
}

// testdata is the absolute path of a file under testdata/.
func testdata(t *testing.T, parts ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// scriptEnv is how an external script learns where to connect and which table is its own.
func scriptEnv(ep endpoint, table string) []string {
	return append(os.Environ(),
		"DRV_HOST="+ep.host,
		"DRV_PORT="+strconv.Itoa(ep.port),
		"DRV_USER="+ep.user,
		"DRV_PASSWORD="+ep.pass,
		"DRV_DB="+ep.db,
		"DRV_TABLE="+table,
		"DRV_OTHER_USER="+otherUser,
		"DRV_OTHER_PASSWORD="+otherPassword,
	)
}

// externalScript is a scriptFunc that runs a program and takes its standard output as the
// transcript. A non-zero exit is the script's failure: its standard error is in the error.
func externalScript(prepare func(t *testing.T) (name string, args []string, extraEnv []string)) scriptFunc {
	return func(t *testing.T, ctx context.Context, ep endpoint, table string) ([]string, error) {
		name, args, extra := prepare(t)
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(scriptEnv(ep, table), extra...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		lines := splitLines(stdout.String())
		if err != nil {
			return lines, fmt.Errorf("%s %s: %w\nstderr:\n%s", name, strings.Join(args, " "), err, tail(stderr.String(), 40))
		}
		if s := strings.TrimSpace(stderr.String()); s != "" {
			t.Logf("%s (%s) wrote on stderr:\n%s", name, ep.name, tail(s, 20))
		}
		return lines, nil
	}
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := splitLines(s)
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
