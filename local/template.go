package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// mariadb-install-db takes one to two seconds (it bootstraps a server and fsyncs); copying its
// result takes a tenth of that. So the first install on a machine goes into a template data dir
// in the temp dir, and every instance after that is a copy. The template is keyed by the
// MariaDB binary and the install options, so an upgrade makes a new one.

// templateMu serialises template creation within this process; separate processes (test
// binaries of different packages) race safely through an atomic rename.
var templateMu sync.Mutex

// installArgs are the mariadb-install-db options, without --datadir.
func installArgs(asRoot bool) []string {
	args := []string{
		"--no-defaults",
		"--skip-test-db",
		"--skip-name-resolve",
		// A passwordless root reachable only over the unix socket (TCP roots are dropped in
		// createUser): works for any OS user, unlike the socket-auth default.
		"--auth-root-authentication-method=normal",
		"--innodb-log-file-size=16M",
		"--innodb-buffer-pool-size=64M",
	}
	if asRoot {
		args = append(args, "--user=root")
	}
	return args
}

// templateDir returns the template path for the installed MariaDB and these options.
func templateDir(asRoot bool) (string, error) {
	bin, err := lookBin(mariadbdBin)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(bin)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d|%d|%d|%s", bin, st.Size(), st.ModTime().UnixNano(), os.Geteuid(), strings.Join(installArgs(asRoot), " "))
	return filepath.Join(os.TempDir(), "vtdirect-mariadb-template-"+hex.EncodeToString(h.Sum(nil)[:8])), nil
}

// installDataDir fills dataDir (which must not exist) with a fresh MariaDB data dir, by copying
// the template (creating it first if needed). logPath receives mariadb-install-db's output.
func installDataDir(ctx context.Context, dataDir, logPath string, asRoot bool) error {
	tmpl, err := templateDir(asRoot)
	if err != nil {
		return err
	}
	if err := ensureTemplate(ctx, tmpl, logPath, asRoot); err != nil {
		return err
	}
	if err := copyDir(tmpl, dataDir); err != nil {
		os.RemoveAll(dataDir)
		return fmt.Errorf("copy template %s: %w", tmpl, err)
	}
	return nil
}

func ensureTemplate(ctx context.Context, tmpl, logPath string, asRoot bool) error {
	templateMu.Lock()
	defer templateMu.Unlock()
	if _, err := os.Stat(tmpl); err == nil {
		return nil
	}
	work, err := os.MkdirTemp(filepath.Dir(tmpl), filepath.Base(tmpl)+".tmp-")
	if err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	defer os.RemoveAll(work) // left over only when the rename below did not happen
	data := filepath.Join(work, "data")
	if err := runInstallDB(ctx, data, logPath, asRoot); err != nil {
		return err
	}
	if err := os.Rename(data, tmpl); err != nil {
		if _, statErr := os.Stat(tmpl); statErr == nil {
			return nil // another process won the race: use its template
		}
		return fmt.Errorf("create template: %w", err)
	}
	return nil
}

func runInstallDB(ctx context.Context, dataDir, logPath string, asRoot bool) error {
	bin, err := lookBin(installDBBin)
	if err != nil {
		return err
	}
	out, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("initialise %s: %w", dataDir, err)
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, bin, append(installArgs(asRoot), "--datadir="+dataDir)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s into %s: %w\n%s", installDBBin, dataDir, err, tailFile(logPath, 15))
	}
	return nil
}

// copyDir copies the regular files and directories under src to dst, keeping permissions.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm())
		case info.Mode().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		default:
			return fmt.Errorf("%s: unexpected file type %v", path, info.Mode().Type())
		}
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
