package config

import (
	"fmt"
	"sort"
	"strings"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/tabletserver"
)

// FlagValue is a setting of the file that a serve flag also sets: cmd/vtdirect applies it
// through the flag (its parsing and its default are the flag's).
type FlagValue struct {
	Flag string
	Key  string   // gateway.mysql_port
	List []string // for a list: its items (a repeatable flag takes one at a time)
	Text string   // the value as the flag reads it (a list: comma-joined)
	Line int
}

// FlagValues are the gateway, global, failover and buffer settings that have a flag, sorted
// by flag.
func (f *File) FlagValues() []FlagValue {
	var out []FlagValue
	for _, sec := range []struct {
		name string
		v    Values
	}{{"gateway", f.Gateway}, {"global", f.Global}, {"failover", f.Failover}, {"buffer", f.Buffer}} {
		for k, v := range sec.v {
			if v.set.flag == "" {
				continue
			}
			out = append(out, FlagValue{Flag: v.set.flag, Key: sec.name + "." + k, List: v.List, Text: v.Text, Line: v.Line})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Flag < out[j].Flag })
	return out
}

// Secret returns a secret of a section ("global", "failover") by name ("password",
// "dba_password"), and whether the file gives it.
func (f *File) Secret(section, name string) (string, bool) {
	var v Values
	switch section {
	case "global":
		v = f.Global
	case "failover":
		v = f.Failover
	}
	if s := v[name]; s != nil {
		return s.Secret, true
	}
	return "", false
}

// UserPasswords are the gateway users and their passwords.
func (f *File) UserPasswords() map[string]string {
	out := make(map[string]string, len(f.Users))
	for name, u := range f.Users {
		out[name] = u.Values["password"].Secret
	}
	return out
}

// tabletValues folds the sections that apply to a tablet: global, its server's, its
// keyspace's, its own (each later one wins).
func (f *File) tabletValues(addr, keyspace, alias string) Values {
	out := Values{}
	for k, v := range f.Global {
		out[k] = v
	}
	for _, e := range []*Entry{f.Servers[addr], f.Keyspaces[keyspace], f.Tablets[alias]} {
		if e == nil {
			continue
		}
		for k, v := range e.Values {
			out[k] = v
		}
	}
	return out
}

// Apply sets the tablet server fields the values give.
func (v Values) Apply(cfg *tabletserver.Config) {
	for k, x := range v {
		switch k {
		case "user":
			cfg.User = x.Text
		case "password":
			cfg.Password = x.Secret
		case "pool_size":
			cfg.PoolSize = int(x.Int)
		case "pool_timeout":
			cfg.PoolWaitTimeout = x.Dur
		case "transaction_cap":
			cfg.TxPoolSize = int(x.Int)
		case "transaction_timeout":
			cfg.TxTimeout = x.Dur
		case "query_timeout":
			cfg.QueryTimeout = x.Dur
		case "max_result_rows":
			cfg.MaxResultRows = int(x.Int)
		case "max_connections":
			cfg.MaxConnections = int(x.Int)
		case "idle_timeout":
			cfg.IdleTimeout = x.Dur
		case "health_check_interval":
			cfg.HealthInterval = x.Dur
		case "connect_timeout":
			cfg.ConnectTimeout = x.Dur
		}
	}
}

// TabletConfig is the configuration of a tablet's server: base (the built-in defaults with
// global applied) with the tablet's server, keyspace and tablet entries applied.
func (f *File) TabletConfig(base tabletserver.Config, t *topodatapb.Tablet) tabletserver.Config {
	addr := fmt.Sprintf("%s:%d", hostOf(t), portOf(t))
	alias := fmt.Sprintf("%s-%010d", t.GetAlias().GetCell(), t.GetAlias().GetUid())
	f.tabletValues(addr, t.GetKeyspace(), alias).Apply(&base)
	return base
}

func hostOf(t *topodatapb.Tablet) string {
	if h := t.GetMysqlHostname(); h != "" {
		return h
	}
	return t.GetHostname()
}

func portOf(t *topodatapb.Tablet) int32 {
	if p := t.GetMysqlPort(); p != 0 {
		return p
	}
	return t.GetPortMap()["mysql"]
}

// Picker is the tablet choice of one keyspace: global's and the keyspace's picker settings.
type Picker struct {
	MaxLag         *time.Duration
	CellPreference *string
	Cells          []string
	HasCells       bool
}

// KeyspacePicker returns the keyspace's own picker settings (nil fields: global's apply),
// and whether it has any.
func (f *File) KeyspacePicker(keyspace string) (Picker, bool) {
	e := f.Keyspaces[keyspace]
	if e == nil {
		return Picker{}, false
	}
	var p Picker
	any := false
	if v := e.Values["max_replication_lag"]; v != nil {
		d := v.Dur
		p.MaxLag, any = &d, true
	}
	if v := e.Values["cell_preference"]; v != nil {
		s := v.Text
		p.CellPreference, any = &s, true
	}
	if v := e.Values["cells"]; v != nil {
		p.Cells, p.HasCells, any = v.List, true, true
	}
	return p, any
}

// KeyspacesWithPicker lists the keyspaces that have picker settings of their own.
func (f *File) KeyspacesWithPicker() []string {
	var out []string
	for name := range f.Keyspaces {
		if _, ok := f.KeyspacePicker(name); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Diff lists what changed from old to f, in two parts: what a running gateway applies, and
// what needs a restart. Secrets are named, never shown.
func Diff(old, f *File) (applied, restart []string) {
	for _, sec := range []struct {
		name     string
		old, new Values
	}{{"gateway", old.Gateway, f.Gateway}, {"global", old.Global, f.Global}, {"failover", old.Failover, f.Failover}, {"buffer", old.Buffer, f.Buffer}} {
		a, r := diffValues(sec.name, sec.old, sec.new)
		applied, restart = append(applied, a...), append(restart, r...)
	}
	for _, sec := range []struct {
		name     string
		old, new map[string]*Entry
	}{{"servers", old.Servers, f.Servers}, {"keyspaces", old.Keyspaces, f.Keyspaces}, {"tablets", old.Tablets, f.Tablets}, {"users", old.Users, f.Users}} {
		names := map[string]bool{}
		for n := range sec.old {
			names[n] = true
		}
		for n := range sec.new {
			names[n] = true
		}
		for _, n := range sortedNames(names) {
			var ov, nv Values
			if e := sec.old[n]; e != nil {
				ov = e.Values
			}
			if e := sec.new[n]; e != nil {
				nv = e.Values
			}
			a, r := diffValues(sec.name+"."+n, ov, nv)
			applied, restart = append(applied, a...), append(restart, r...)
		}
	}
	return applied, restart
}

func diffValues(path string, old, new Values) (applied, restart []string) {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range new {
		keys[k] = true
	}
	for _, k := range sortedNames(keys) {
		o, n := old[k], new[k]
		if o != nil && n != nil && o.Text == n.Text && o.Secret == n.Secret {
			continue
		}
		st := settingOf(o, n)
		what := fmt.Sprintf("%s.%s: %s → %s", path, k, show(o), show(n))
		if st.secret != "" {
			what = fmt.Sprintf("%s.%s: changed (%s)", path, k, show(n))
		}
		if st.reload {
			applied = append(applied, what)
		} else {
			restart = append(restart, what+" (needs a restart)")
		}
	}
	return applied, restart
}

func settingOf(o, n *Value) *setting {
	if n != nil {
		return n.set
	}
	return o.set
}

func show(v *Value) string {
	if v == nil {
		return "(default)"
	}
	if v.set.secret != "" {
		return "from " + v.Source
	}
	return strings.TrimSpace(v.Text)
}

func sortedNames(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
