package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/vtdirect/vtdirect/acl"
)

// The users' access rules live where their passwords do: Vitess's static auth file
// (--mysql-auth-server-static-file), whose entries take, besides Vitess's Password, UserData
// and Groups, vtdirect's Keyspaces, TabletTypes, Admin and MaxConnections:
//
//	{
//	  "app":    [{"Password": "...", "Keyspaces": {"commerce": "write"}}],
//	  "report": [{"Password": "...", "Groups": ["analysts"], "Keyspaces": {"commerce": "read"},
//	              "TabletTypes": ["replica", "rdonly"], "MaxConnections": 20}],
//	  "ops":    [{"Password": "...", "Admin": true}]
//	}
//
// and Vitess's table ACL is its own file (--table-acl-config). The config file (package
// config) feeds the same acl.Config.

// staticAccess is the access part of one static auth file entry.
type staticAccess struct {
	Password            string
	MysqlNativePassword string
	UserData            string
	SourceHost          string
	Groups              []string
	Keyspaces           map[string]acl.Right
	TabletTypes         []string
	Admin               bool
	MaxConnections      int
}

// userAccess is what the users file says besides passwords.
type userAccess struct {
	rules    map[string]acl.UserConfig
	maxConns map[string]int // per user; absent: the gateway's default
}

// parseStaticAccess reads the access rules of a static auth file. Unknown keys are refused: a
// misspelt rule must not leave a user with every right.
func parseStaticAccess(data []byte) (userAccess, error) {
	out := userAccess{rules: map[string]acl.UserConfig{}, maxConns: map[string]int{}}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return out, fmt.Errorf("not JSON of the form {\"user\": [{\"Password\": \"...\"}]}: %w", err)
	}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		entries, err := decodeEntries(raw[name])
		if err != nil {
			return out, fmt.Errorf("user %q: %w", name, err)
		}
		if len(entries) == 0 {
			return out, fmt.Errorf("user %q has no entry", name)
		}
		first := entries[0]
		for _, e := range entries[1:] {
			if e.Admin != first.Admin || len(e.Keyspaces) > 0 || len(e.TabletTypes) > 0 || e.MaxConnections != 0 {
				return out, fmt.Errorf("user %q: give its access rules (Keyspaces, TabletTypes, Admin, MaxConnections) in its first entry only", name)
			}
		}
		uc := acl.UserConfig{Groups: first.Groups, Keyspaces: first.Keyspaces, Admin: first.Admin}
		for _, t := range first.TabletTypes {
			tt, err := acl.ParseTabletType(t)
			if err != nil {
				return out, fmt.Errorf("user %q: TabletTypes: %w", name, err)
			}
			uc.TabletTypes = append(uc.TabletTypes, tt)
		}
		if first.MaxConnections < 0 {
			return out, fmt.Errorf("user %q: MaxConnections %d is negative", name, first.MaxConnections)
		}
		if first.MaxConnections > 0 {
			out.maxConns[name] = first.MaxConnections
		}
		out.rules[name] = uc
	}
	return out, nil
}

// decodeEntries reads a user's entries: a list, or one object (both forms Vitess reads).
func decodeEntries(msg json.RawMessage) ([]staticAccess, error) {
	strict := func(b []byte, v any) error {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	var list []staticAccess
	if err := strict(msg, &list); err == nil {
		return list, nil
	}
	var one staticAccess
	if err := strict(msg, &one); err != nil {
		return nil, fmt.Errorf("%w (known keys: Password, UserData, Groups, Keyspaces, TabletTypes, Admin, MaxConnections)", err)
	}
	return []staticAccess{one}, nil
}

// loadAccess builds the access policy from the static auth file's rules and the table ACL
// file (either may be ""), and the per-user connection limits.
func loadAccess(staticFile, tableACLFile string) (*acl.Policy, map[string]int, error) {
	cfg := acl.Config{Users: map[string]acl.UserConfig{}}
	var maxConns map[string]int
	if staticFile != "" {
		data, err := os.ReadFile(staticFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--mysql-auth-server-static-file: %w", err)
		}
		ua, err := parseStaticAccess(data)
		if err != nil {
			return nil, nil, fmt.Errorf("--mysql-auth-server-static-file %s: %w", staticFile, err)
		}
		cfg.Users, maxConns = ua.rules, ua.maxConns
	}
	if tableACLFile != "" {
		data, err := os.ReadFile(tableACLFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--table-acl-config: %w", err)
		}
		if cfg.TableGroups, err = acl.ParseTableACL(data); err != nil {
			return nil, nil, fmt.Errorf("--table-acl-config %s: %w", tableACLFile, err)
		}
	}
	p, err := acl.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return p, maxConns, nil
}
