package drivers

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMariaDBCLI: the mariadb client in batch mode (--force goes on after an error and prints
// it where it happened; --unbuffered keeps stdout and stderr in order), then a second
// invocation with the toggle sequence that exits.
func TestMariaDBCLI(t *testing.T) {
	t.Parallel()
	cli := needCommand(t, "mariadb", "the mariadb client", "mariadb-client")
	runMatrix(t, "cli", func(t *testing.T, ctx context.Context, ep endpoint, table string) ([]string, error) {
		var lines []string
		for _, file := range []string{"session.sql", "toggle.sql"} {
			out, err := runCLI(t, ctx, cli, ep, table, file)
			lines = append(lines, out...)
			if err != nil {
				return lines, err
			}
		}
		return lines, nil
	})
}

// runCLI feeds testdata/cli/<file> (with {T} replaced) to the mariadb client; its standard
// output and error, in order, are the transcript. Exit status 1 is the client's report that a
// statement failed (the errors are in the transcript); anything else is a failure.
func runCLI(t *testing.T, ctx context.Context, cli string, ep endpoint, table, file string) ([]string, error) {
	sql, err := os.ReadFile(testdata(t, "cli", file))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, cli, "--no-defaults", "--batch", "--skip-column-names", "--force", "--unbuffered",
		"--show-warnings", "--protocol=tcp", "-h", ep.host, "-P", strconv.Itoa(ep.port), "-u", ep.user, "-p"+ep.pass, ep.db)
	cmd.Stdin = strings.NewReader(strings.ReplaceAll(string(sql), "{T}", table))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	lines := splitLines(out.String())
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		err = nil
	}
	if err != nil {
		return lines, fmt.Errorf("mariadb < %s: %w", file, err)
	}
	return lines, nil
}

// dumpVariable are the lines of a dump that differ by construction: the date it completed,
// and the server version from the handshake (the gateway announces its own).
var dumpVariable = regexp.MustCompile(`^-- (Dump completed on|Server version)`)

// TestMariaDBDump: mariadb-dump of the database through the gateway equals a direct dump,
// with the default options and the ones backups use. It runs alone (not in parallel), so the
// database holds the sample tables and the dump fixture only.
func TestMariaDBDump(t *testing.T) {
	dump := needCommand(t, "mariadb-dump", "mariadb-dump", "mariadb-client")
	cli := needCommand(t, "mariadb", "the mariadb client", "mariadb-client")
	direct := directEndpoint()
	fixture, err := os.ReadFile(testdata(t, "cli", "dump_fixture.sql"))
	if err != nil {
		t.Fatal(err)
	}
	load := exec.CommandContext(t.Context(), cli, "--no-defaults", "--protocol=tcp", "-h", direct.host, "-P", strconv.Itoa(direct.port),
		"-u", direct.user, "-p"+direct.pass, direct.db)
	load.Stdin = bytes.NewReader(fixture)
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("load the dump fixture on MariaDB: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		db := directDB(t)
		for _, q := range []string{"DROP VIEW IF EXISTS dump_view", "DROP PROCEDURE IF EXISTS dump_proc", "DROP TABLE IF EXISTS dump_types, dump_log"} {
			if _, err := db.ExecContext(context.WithoutCancel(t.Context()), q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	for _, v := range []struct {
		name string
		args []string
	}{
		{"default", nil},
		{"single-transaction", []string{"--single-transaction", "--routines", "--triggers", "--events", "--hex-blob"}},
		{"skip-opt", []string{"--skip-opt", "--complete-insert", "--tz-utc"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			var dumps [2][]string
			for i, ep := range endpoints() {
				args := append([]string{"--no-defaults", "--protocol=tcp", "-h", ep.host, "-P", strconv.Itoa(ep.port),
					"-u", ep.user, "-p" + ep.pass}, v.args...)
				cmd := exec.CommandContext(t.Context(), dump, append(args, ep.db)...)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					if ep.name == "direct" {
						t.Fatalf("mariadb-dump %s directly: %v\n%s", strings.Join(v.args, " "), err, stderr.String())
					}
					t.Errorf("mariadb-dump %s through the gateway: %v\n%s", strings.Join(v.args, " "), err, tail(stderr.String(), 20))
				}
				for _, l := range splitLines(stdout.String()) {
					if !dumpVariable.MatchString(l) {
						dumps[i] = append(dumps[i], l)
					}
				}
			}
			if len(dumps[0]) < 20 {
				t.Fatalf("the direct dump has %d lines: not a dump of the database", len(dumps[0]))
			}
			if d := diffLines(dumps[0], dumps[1]); d != "" {
				t.Errorf("mariadb-dump %s through the gateway differs from the direct dump (- direct, + gateway):\n%s", strings.Join(v.args, " "), d)
			}
		})
	}
}
