package main

// `vtdirect serve --config FILE`: the file's settings go through serve's own flags (their
// parsing, their defaults), what no flag says (servers, keyspaces, tablets, users, secrets)
// goes to the gateway's configuration directly; a reload (SIGHUP, `vtdirect config reload`)
// re-reads the file the same way and applies what may change while running.

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/config"
	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/router"
	"github.com/vtdirect/vtdirect/stats"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// useConfigFile refuses the other flags (the file supersedes them, as the RFC says) and
// loads the file into f through fs.
func (f *serveFlags) useConfigFile(fs *pflag.FlagSet) error {
	var legacy []string
	fs.Visit(func(fl *pflag.Flag) {
		if fl.Name == "config" {
			return
		}
		key := config.KeyOfFlag(fl.Name)
		if key == "" {
			key = "(no key: it has no place beside a configuration file)"
		}
		legacy = append(legacy, fmt.Sprintf("--%s (in the file: %s)", fl.Name, key))
	})
	if len(legacy) > 0 {
		return fmt.Errorf("--config %s supersedes every other flag; move %s into the file, or drop --config", f.configPath, strings.Join(legacy, ", "))
	}
	file, err := config.Load(f.configPath, os.LookupEnv)
	if err != nil {
		return err
	}
	return f.applyFile(fs, file)
}

// applyFile sets the flags the file gives and the secrets.
func (f *serveFlags) applyFile(fs *pflag.FlagSet, file *config.File) error {
	for _, v := range file.FlagValues() {
		fl := fs.Lookup(v.Flag)
		if fl == nil {
			return fmt.Errorf("%s:%d: %s: no flag %s (a bug: tell the vtdirect developers)", file.Path, v.Line, v.Key, v.Flag)
		}
		values := []string{v.Text}
		if fl.Value.Type() == "stringArray" {
			values = v.List
		}
		for _, x := range values {
			if err := fs.Set(v.Flag, x); err != nil {
				return fmt.Errorf("%s:%d: %s: %v", file.Path, v.Line, v.Key, err)
			}
		}
	}
	if pw, ok := file.Secret("global", "password"); ok {
		f.ts.Password = pw
	}
	if pw, ok := file.Secret("failover", "dba_password"); ok {
		f.fo.dbaPassword = pw
		f.useDBAForControl()
	}
	f.fo.replPassword = f.fo.dbaPassword
	if pw, ok := file.Secret("failover", "repl_password"); ok {
		f.fo.replPassword = pw
	}
	if pw, ok := file.Secret("global", "filtered_password"); ok {
		f.sec.filteredPass = pw
	}
	f.file = file
	return nil
}

// useCredentials reads --db-credentials-file (flags, no config file).
func (f *serveFlags) useCredentials() error {
	creds, err := f.fo.useCredentials()
	if err != nil {
		return err
	}
	if pw, ok := creds[f.ts.User]; ok {
		f.ts.Password = pw
	}
	if _, ok := creds[f.fo.dba]; ok {
		f.useDBAForControl()
	}
	if pw, ok := creds[f.sec.filteredUser]; ok {
		f.sec.filteredPass = pw
	}
	return nil
}

// useDBAForControl makes the admin user, whose password is given, the backends' control
// connection's (health probe with the replica status, KILL QUERY), as vttablet uses its dba
// user for them: the app user then needs no replication or process rights.
func (f *serveFlags) useDBAForControl() {
	f.ts.ControlUser, f.ts.ControlPassword = f.fo.dba, f.fo.dbaPassword
}

// users are the MySQL users the gateway accepts: the static auth file's and the config
// file's.
func (f *serveFlags) users() (staticUsers, error) {
	u, err := loadUsers(f.authFile)
	if err != nil {
		return nil, err
	}
	if f.file != nil {
		for name, pw := range f.file.UserPasswords() {
			u[name] = pw
		}
	}
	return u, nil
}

// folding is the metric folding of --drop-dimensions and --stats-combine-dimensions.
func (f *serveFlags) folding() stats.Folding {
	return stats.Folding{Drop: stats.Set(splitList(f.dropDims)...), Combine: stats.Set(splitList(f.combineDims)...)}
}

// keyspacePickers are the keyspaces' own picker settings in the file.
func keyspacePickers(file *config.File) (map[string]router.KeyspacePicker, error) {
	out := map[string]router.KeyspacePicker{}
	for _, ks := range file.KeyspacesWithPicker() {
		p, _ := file.KeyspacePicker(ks)
		k := router.KeyspacePicker{Cells: p.Cells, HasCells: p.HasCells, MaxLag: p.MaxLag}
		if p.CellPreference != nil {
			pref, err := picker.ParseCellPreference(*p.CellPreference)
			if err != nil {
				return nil, fmt.Errorf("%s: keyspaces.%s.cell_preference: %w", file.Path, ks, err)
			}
			k.CellPreference = &pref
		}
		out[ks] = k
	}
	return out, nil
}

// reloader re-reads the configuration file for a running gateway.
type reloader struct {
	mu   sync.Mutex // guards file
	path string
	file *config.File
	g    *gateway.Gateway
	log  *slog.Logger
}

// reload re-reads the file and applies it; it returns what changed and what did not apply.
func (r *reloader) reload() (applied, notApplied []string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	file, err := config.Load(r.path, os.LookupEnv)
	if err != nil {
		return nil, nil, err
	}
	f := &serveFlags{}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	defineServeFlags(fs, f)
	if err := f.applyFile(fs, file); err != nil {
		return nil, nil, err
	}
	users, err := f.users()
	if err != nil {
		return nil, nil, err
	}
	pref, err := picker.ParseCellPreference(f.cellPreference)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: global.cell_preference: %w", file.Path, err)
	}
	kp, err := keyspacePickers(file)
	if err != nil {
		return nil, nil, err
	}
	access, userMax, err := loadAccess(f.authFile, f.sec.tableACL)
	if err != nil {
		return nil, nil, err
	}
	base := f.ts
	not, err := r.g.Reload(gateway.Reload{
		TabletServer:       base,
		TabletConfig:       func(t *topodatapb.Tablet) tabletserver.Config { return file.TabletConfig(base, t) },
		Users:              users,
		Access:             access,
		UserMaxConnections: userMax,
		Folding:            f.folding(),
		Picker:             router.PickerDefaults{Cells: splitList(f.cells), CellPreference: pref, MaxLag: f.maxLag, Keyspaces: kp},
	})
	if err != nil {
		return nil, nil, err
	}
	applied, restart := config.Diff(r.file, file)
	r.file = file
	notApplied = append(restart, not...)
	sort.Strings(applied)
	r.log.Info("configuration file reloaded", "file", r.path, "changed", strings.Join(applied, "; "), "not_applied", strings.Join(notApplied, "; "))
	return applied, notApplied, nil
}

// loadCredentials reads a credentials file in Vitess's format (go/vt/dbconfigs, the "file"
// credentials server): {"user": ["password", ...]}; the first password is used.
func loadCredentials(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--db-credentials-file: %w", err)
	}
	var raw map[string][]string
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("--db-credentials-file %s: not JSON of the form {\"user\": [\"password\"]}: %w", path, err)
	}
	out := make(map[string]string, len(raw))
	for u, pws := range raw {
		if len(pws) == 0 {
			return nil, fmt.Errorf("--db-credentials-file %s: user %q has no password", path, u)
		}
		out[u] = pws[0]
	}
	return out, nil
}
