package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vtdirect/vtdirect/picker"
)

// Error is a bad file: where, which key, and what is wrong.
type Error struct {
	File string
	Line int
	Key  string // the key's path: keyspaces.commerce.pool_size
	Msg  string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// Value is one setting as the file gives it.
type Value struct {
	set   *setting
	Key   string // canonical key (for a secret: the secret's name, "password")
	Text  string // as written (a list joined with ","); never the secret
	List  []string
	Int   int64
	Dur   time.Duration
	Bool  bool
	Rules map[string]string
	// Secret is a password read from Source ("file /etc/x", "environment variable X").
	Secret, Source string
	Line           int
}

// Values are the settings of one section or entry, by canonical key.
type Values map[string]*Value

// Entry is one named entry of servers, keyspaces, tablets or users.
type Entry struct {
	Name   string
	Line   int
	Values Values
}

// File is a parsed configuration file.
type File struct {
	Path                              string
	Gateway, Global, Failover, Buffer Values
	Servers, Keyspaces, Tablets       map[string]*Entry // tablets by canonical alias (zone1-0000000100)
	Users                             map[string]*Entry
}

// LookupEnv reads an environment variable (os.LookupEnv, or a fake in tests).
type LookupEnv func(string) (string, bool)

// Load reads and checks a file. Every problem found is returned, each with its line and key.
func Load(path string, env LookupEnv) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, env)
}

// Parse reads a file's content; path names it in errors and anchors relative password_file
// names.
func Parse(path string, data []byte, env LookupEnv) (*File, error) {
	if env == nil {
		env = os.LookupEnv
	}
	p := &parser{file: path, dir: filepath.Dir(path), env: env}
	f := &File{Path: path, Gateway: Values{}, Global: Values{}, Failover: Values{}, Buffer: Values{},
		Servers: map[string]*Entry{}, Keyspaces: map[string]*Entry{}, Tablets: map[string]*Entry{}, Users: map[string]*Entry{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: path, Line: yamlLine(err), Msg: "not valid YAML: " + err.Error()}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil // empty: every default
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: path, Line: root.Line, Msg: "the file must be a mapping of sections (gateway, users, global, servers, keyspaces, tablets, failover, buffer)"}
	}
	p.eachPair(root, "", func(k, v *yaml.Node) {
		switch norm(k.Value) {
		case "gateway":
			p.values(v, inGateway, "gateway", f.Gateway)
		case "global":
			p.values(v, inGlobal, "global", f.Global)
		case "failover":
			p.values(v, inFailover, "failover", f.Failover)
		case "buffer":
			p.values(v, inBuffer, "buffer", f.Buffer)
		case "servers":
			p.entries(v, inServers, "servers", f.Servers, checkServer)
		case "keyspaces":
			p.entries(v, inKeyspaces, "keyspaces", f.Keyspaces, nil)
		case "tablets":
			p.entries(v, inTablets, "tablets", f.Tablets, canonicalAlias)
		case "users":
			p.entries(v, inUsers, "users", f.Users, nil)
		default:
			p.errorf(k, k.Value, "unknown section; the sections are gateway, users, global, servers, keyspaces, tablets, failover and buffer")
		}
	})
	for name, u := range f.Users {
		if u.Values["password"] == nil && !p.hasErrorUnder("users."+u.Name) {
			p.errs = append(p.errs, &Error{File: path, Line: u.Line, Key: "users." + name, Msg: "no password: give password_file or password_env"})
		}
	}
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		errs := make([]error, len(p.errs))
		for i, e := range p.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return f, nil
}

type parser struct {
	file, dir string
	env       LookupEnv
	errs      []*Error
}

func (p *parser) hasErrorUnder(key string) bool {
	for _, e := range p.errs {
		if e.Key == key || strings.HasPrefix(e.Key, key+".") {
			return true
		}
	}
	return false
}

func (p *parser) errorf(n *yaml.Node, key, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// eachPair walks a mapping's pairs, refusing a key given twice.
func (p *parser) eachPair(m *yaml.Node, path string, f func(k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, path, "a key must be a plain name")
			continue
		}
		if line, dup := seen[norm(k.Value)]; dup {
			p.errorf(k, join(path, k.Value), "given twice (first on line %d)", line)
			continue
		}
		seen[norm(k.Value)] = k.Line
		f(k, v)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// entries reads a mapping of named entries; canon, if set, checks a name and gives its
// canonical form (two spellings of one tablet are one name).
func (p *parser) entries(n *yaml.Node, in section, path string, out map[string]*Entry, canon func(string) (string, error)) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of names to settings")
		return
	}
	p.eachPair(n, path, func(k, v *yaml.Node) {
		name := k.Value
		if canon != nil {
			c, err := canon(name)
			if err != nil {
				p.errorf(k, join(path, name), "%v", err)
				return
			}
			name = c
		}
		if old, dup := out[name]; dup {
			p.errorf(k, join(path, k.Value), "names the same %s as %q on line %d", strings.TrimSuffix(path, "s"), old.Name, old.Line)
			return
		}
		e := &Entry{Name: k.Value, Line: k.Line, Values: Values{}}
		out[name] = e
		p.values(v, in, join(path, k.Value), e.Values)
	})
}

// values reads one section's or entry's settings.
func (p *parser) values(n *yaml.Node, in section, path string, out Values) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of settings")
		return
	}
	p.eachPair(n, path, func(k, v *yaml.Node) {
		key := join(path, k.Value)
		st, elsewhere := lookup(k.Value, in)
		if st == nil {
			switch {
			case norm(k.Value) == "password" || strings.HasSuffix(norm(k.Value), "_password") || strings.Contains(norm(k.Value), "password") && elsewhere == nil:
				p.errorf(k, key, "passwords are not written in the file: give password_file (a file holding it) or password_env (an environment variable)")
			case elsewhere != nil:
				p.errorf(k, key, "not a setting of %s; it belongs in %s", sectionNames[firstSection(in)], elsewhere.in.names())
			default:
				p.errorf(k, key, "unknown key")
			}
			return
		}
		val, ok := p.decode(v, st, key)
		if !ok {
			return
		}
		name := st.key
		if st.secret != "" {
			name = st.secret
		}
		if old, dup := out[name]; dup {
			p.errorf(k, key, "%s is already given on line %d", name, old.Line)
			return
		}
		out[name] = val
	})
}

// decode reads a value of the setting's kind.
func (p *parser) decode(n *yaml.Node, st *setting, key string) (*Value, bool) {
	v := &Value{set: st, Key: st.key, Line: n.Line}
	bad := func() (*Value, bool) {
		got := n.Value
		if n.Kind != yaml.ScalarNode {
			got = map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}[n.Kind]
		} else {
			got = strconv.Quote(got)
		}
		p.errorf(n, key, "want %s, got %s", st.kind, got)
		return nil, false
	}
	scalar := n.Kind == yaml.ScalarNode && n.Tag != "!!null"
	switch st.kind {
	case kList:
		switch {
		case n.Kind == yaml.SequenceNode:
			for _, c := range n.Content {
				if c.Kind != yaml.ScalarNode {
					return bad()
				}
				v.List = append(v.List, c.Value)
			}
		case scalar:
			for s := range strings.SplitSeq(n.Value, ",") {
				if s = strings.TrimSpace(s); s != "" {
					v.List = append(v.List, s)
				}
			}
		default:
			return bad()
		}
		v.Text = strings.Join(v.List, ",")
		return v, true
	case kRules:
		v.Rules = map[string]string{}
		switch {
		case n.Kind == yaml.MappingNode:
			var parts []string
			for i := 0; i+1 < len(n.Content); i += 2 {
				a, r := n.Content[i].Value, n.Content[i+1].Value
				v.Rules[a] = r
				parts = append(parts, a+"="+r)
			}
			sort.Strings(parts)
			v.Text = strings.Join(parts, ",")
		case scalar:
			v.Text = n.Value
		default:
			return bad()
		}
		return v, true
	}
	if !scalar {
		return bad()
	}
	v.Text = n.Value
	switch st.kind {
	case kPath:
		if v.Text != "" && !filepath.IsAbs(v.Text) {
			v.Text = filepath.Join(p.dir, v.Text)
		}
	case kInt:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil || n.Tag != "!!int" {
			return bad()
		}
		if i < 0 {
			p.errorf(n, key, "must not be negative")
			return nil, false
		}
		v.Int = i
	case kDuration:
		d, err := time.ParseDuration(n.Value)
		if err != nil {
			return bad()
		}
		if d < 0 {
			p.errorf(n, key, "must not be negative")
			return nil, false
		}
		v.Dur = d
	case kBool:
		if n.Tag != "!!bool" {
			return bad()
		}
		v.Bool = n.Value == "true" || n.Value == "True" || n.Value == "TRUE" || n.Value == "yes" || n.Value == "on"
	case kSecretF:
		name := n.Value
		if !filepath.IsAbs(name) {
			name = filepath.Join(p.dir, name)
		}
		b, err := os.ReadFile(name)
		if err != nil {
			p.errorf(n, key, "cannot read the secret: %v", err)
			return nil, false
		}
		s := strings.TrimSuffix(string(b), "\n")
		v.Secret, v.Source, v.Text = strings.TrimSuffix(s, "\r"), "file "+name, "file "+name
		v.Key = st.secret
	case kSecretE:
		s, ok := p.env(n.Value)
		if !ok {
			p.errorf(n, key, "environment variable %s is not set", n.Value)
			return nil, false
		}
		v.Secret, v.Source, v.Text = s, "environment variable "+n.Value, "environment variable "+n.Value
		v.Key = st.secret
	}
	return v, true
}

// checkServer checks a servers key: the host:port of a MySQL server, as tablet records have it.
func checkServer(name string) (string, error) {
	host, port, err := splitHostPort(name)
	if err != nil || host == "" || port <= 0 {
		return "", fmt.Errorf("a server is named host:port, the tablets' mysql_hostname:mysql_port (e.g. 127.0.0.1:3306)")
	}
	return name, nil
}

func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, errors.New("no port")
	}
	port, err := strconv.Atoi(s[i+1:])
	return strings.Trim(s[:i], "[]"), port, err
}

// canonicalAlias checks a tablets key and gives Vitess's padded form.
func canonicalAlias(name string) (string, error) {
	a, err := picker.ParseAlias(name)
	if err != nil {
		return "", fmt.Errorf("not a tablet alias (cell-uid, e.g. zone1-100): %v", err)
	}
	return fmt.Sprintf("%s-%010d", a.Cell, a.UID), nil
}

// yamlLine finds the line a YAML syntax error names ("yaml: line 3: ...").
func yamlLine(err error) int {
	s := err.Error()
	if i := strings.Index(s, "line "); i >= 0 {
		rest := s[i+5:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(rest[:j]); err == nil {
			return n
		}
	}
	return 1
}
