package drivers

import (
	"github.com/vtdirect/vtdirect/tabletserver"

	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// goSQLDriverModule is the version of go-sql-driver/mysql whose own integration tests run
// against MariaDB and the gateway (the version go.mod uses).
const goSQLDriverModule = "github.com/go-sql-driver/mysql@v1.9.3"

// TestGoSQLDriverSuite runs go-sql-driver/mysql's own integration tests (driver_test.go and
// the others of its package, from the module's source) once directly against MariaDB and once
// through the gateway, and wants every test that passes directly to pass through the gateway.
// It runs alone (not in parallel): its tests drop and create tables named test in the
// database, and some measure connections.
func TestGoSQLDriverSuite(t *testing.T) {
	bin := buildGoSQLDriverSuite(t)
	direct := runGoSQLDriverSuite(t, bin, directEndpoint())
	// The suite opens up to 500 connections at once (TestConcurrent): its gateway has the
	// default pool sizes (16 statement and 32 reserved connections), not the matrix's tiny ones.
	g, err := startGatewayPools(t.Context(), tabletserver.DefaultPoolSize, tabletserver.DefaultTxPoolSize)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	through := runGoSQLDriverSuite(t, bin, endpointOf(g))
	passed := direct.with("PASS")
	if len(passed) < 50 {
		t.Fatalf("only %d tests of go-sql-driver/mysql passed directly against MariaDB: the suite did not run as meant\n%s",
			len(passed), tail(direct.output, 40))
	}
	if f := direct.with("FAIL"); len(f) > 0 {
		t.Logf("failing directly against MariaDB too (not counted): %s", strings.Join(f, ", "))
	}
	t.Logf("directly: %d passed, %d failed, %d skipped; through the gateway: %d passed, %d failed, %d skipped",
		len(passed), len(direct.with("FAIL")), len(direct.with("SKIP")),
		len(through.with("PASS")), len(through.with("FAIL")), len(through.with("SKIP")))
	var lost []string
	for _, name := range passed {
		if through.result[name] == "PASS" {
			continue
		}
		got := through.result[name]
		if got == "" {
			got = "did not run (the suite stopped before it)"
		}
		lost = append(lost, fmt.Sprintf("%s: %s\n%s", name, got, indent(through.messages[name])))
	}
	if len(lost) > 0 {
		t.Errorf("%d tests of go-sql-driver/mysql pass directly against MariaDB and not through the gateway:\n%s",
			len(lost), strings.Join(lost, "\n"))
	}
	if through.err != nil && direct.err == nil && len(lost) == 0 {
		t.Errorf("the suite through the gateway ended with %v\n%s", through.err, tail(through.output, 40))
	}
}

// buildGoSQLDriverSuite compiles the module's test binary in a writable copy of its source.
func buildGoSQLDriverSuite(t *testing.T) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = needCommand(t, "go", "the Go toolchain", "golang")
	}
	cmd := exec.CommandContext(t.Context(), goBin, "mod", "download", "-json", goSQLDriverModule)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v\n%s", goSQLDriverModule, err, out)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s: no module directory (%v %s): %s", goSQLDriverModule, err, mod.Error, out)
	}
	src := filepath.Join(t.TempDir(), "mysql")
	if err := os.CopyFS(src, os.DirFS(mod.Dir)); err != nil {
		t.Fatalf("copy %s: %v", mod.Dir, err)
	}
	bin := filepath.Join(t.TempDir(), "mysql.test")
	cmd = exec.CommandContext(t.Context(), goBin, "test", "-c", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the tests of %s: %v\n%s", goSQLDriverModule, err, out)
	}
	return bin
}

// suiteRun is the outcome of one run of the suite: each test's (and subtest's) result, the
// messages printed under each failing one, the whole output and the binary's exit.
type suiteRun struct {
	result   map[string]string // test name -> PASS, FAIL or SKIP
	messages map[string][]string
	output   string
	err      error
}

func (r suiteRun) with(result string) []string {
	var names []string
	for n, res := range r.result {
		if res == result {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// suiteResultLine is go test -v's verdict on a test: "--- PASS: TestX/sub (0.01s)".
var suiteResultLine = regexp.MustCompile(`^(\s*)--- (PASS|FAIL|SKIP): (\S+)`)

// suiteRunLine names the test whose output follows.
var suiteRunLine = regexp.MustCompile(`^=== (?:RUN|NAME|CONT)\s+(\S+)`)

// suiteExcluded are the suite's tests that are never run: TestConnectorReturnsTimeout dials
// 1.1.1.1 (a public address; tests here talk to this machine only) and involves no server.
const suiteExcluded = "^TestConnectorReturnsTimeout$"

// runGoSQLDriverSuite runs the binary with the endpoint as the suite's server: its account,
// its database (which the suite may fill with tables) and MYSQL_TEST_CONCURRENT on.
func runGoSQLDriverSuite(t *testing.T, bin string, ep endpoint) suiteRun {
	t.Helper()
	started := time.Now()
	cmd := exec.CommandContext(t.Context(), bin, "-test.v", "-test.count=1", "-test.timeout=4m", "-test.skip", suiteExcluded)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append(os.Environ(),
		"MYSQL_TEST_USER="+ep.user, "MYSQL_TEST_PASS="+ep.pass, "MYSQL_TEST_PROT=tcp",
		"MYSQL_TEST_ADDR="+ep.addr(), "MYSQL_TEST_DBNAME="+ep.db, "MYSQL_TEST_CONCURRENT=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	r := suiteRun{result: map[string]string{}, messages: map[string][]string{}, output: out.String(), err: err}
	sc := bufio.NewScanner(strings.NewReader(r.output))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	// go test -v streams a test's messages between its "=== RUN" (or "=== NAME"/"=== CONT")
	// line and its verdict; keep the last few of each failing test.
	var current string
	pending := map[string][]string{}
	for sc.Scan() {
		l := sc.Text()
		if m := suiteResultLine.FindStringSubmatch(l); m != nil {
			r.result[m[3]] = m[2]
			if m[2] == "FAIL" {
				r.messages[m[3]] = pending[m[3]]
			}
			delete(pending, m[3])
			continue
		}
		if m := suiteRunLine.FindStringSubmatch(l); m != nil {
			current = m[1]
			continue
		}
		if current != "" && strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "=== ") {
			p := append(pending[current], strings.TrimSpace(l))
			if len(p) > 8 {
				p = p[len(p)-8:]
			}
			pending[current] = p
		}
	}
	t.Logf("go-sql-driver/mysql's suite %s: %d results in %v (exit: %v)", ep.name, len(r.result), time.Since(started).Round(time.Second), err)
	return r
}
