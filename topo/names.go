package topo

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// File and directory names of Vitess's layout (go/vt/topo/server.go).
const (
	CellInfoFile         = "CellInfo"
	CellsAliasFile       = "CellsAlias"
	KeyspaceFile         = "Keyspace"
	VSchemaFile          = "VSchema"
	ShardFile            = "Shard"
	ShardReplicationFile = "ShardReplication"
	TabletFile           = "Tablet"

	CellsPath        = "cells"
	CellsAliasesPath = "cells_aliases"
	KeyspacesPath    = "keyspaces"
	ShardsPath       = "shards"
	TabletsPath      = "tablets"
)

// Paths of each record, relative to the global root or to a cell's root.
func cellInfoPath(cell string) string    { return path.Join(CellsPath, cell, CellInfoFile) }
func cellsAliasPath(alias string) string { return path.Join(CellsAliasesPath, alias, CellsAliasFile) }
func keyspacePath(ks string) string      { return path.Join(KeyspacesPath, ks, KeyspaceFile) }
func vschemaPath(ks string) string       { return path.Join(KeyspacesPath, ks, VSchemaFile) }
func shardsDir(ks string) string         { return path.Join(KeyspacesPath, ks, ShardsPath) }
func shardPath(ks, shard string) string  { return path.Join(shardsDir(ks), shard, ShardFile) }
func shardReplicationPath(ks, shard string) string {
	return path.Join(shardsDir(ks), shard, ShardReplicationFile)
}
func tabletPath(alias *topodatapb.TabletAlias) string {
	return path.Join(TabletsPath, TabletAliasString(alias), TabletFile)
}

// TabletAliasString formats an alias like Vitess: "<cell>-<uid as %010d>" ("zone1-0000000100").
// This is also the tablet's directory name in the cell's topo.
func TabletAliasString(a *topodatapb.TabletAlias) string {
	if a == nil {
		return "<nil>"
	}
	var buf [10]byte
	uid := strconv.AppendUint(buf[:0], uint64(a.Uid), 10)
	return a.Cell + "-" + strings.Repeat("0", max(0, 10-len(uid))) + string(uid)
}

// ParseTabletAlias parses "<cell>-<uid>", with or without the zero padding ("zone1-100",
// "zone1-0000000100"). The cell may itself contain '-': the uid is after the last one.
func ParseTabletAlias(s string) (*topodatapb.TabletAlias, error) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return nil, fmt.Errorf("topo: %w: tablet alias %q: want <cell>-<uid>, e.g. zone1-100", ErrInvalid, s)
	}
	cell, digits := s[:i], s[i+1:]
	if err := ValidateCellName(cell); err != nil {
		return nil, fmt.Errorf("topo: tablet alias %q: %w", s, err)
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return nil, fmt.Errorf("topo: %w: tablet alias %q: uid %q is not a number; want <cell>-<uid>, e.g. zone1-100", ErrInvalid, s, digits)
		}
	}
	uid, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("topo: %w: tablet alias %q: uid must fit in 32 bits", ErrInvalid, s)
	}
	return &topodatapb.TabletAlias{Cell: cell, Uid: uint32(uid)}, nil
}

// ValidateName checks a keyspace, shard or cell alias name the way Vitess does: 1 to 64
// characters among letters, digits, '-' and '_'.
func ValidateName(kind, name string) error {
	if name == "" {
		return fmt.Errorf("topo: %w: empty %s name", ErrInvalid, kind)
	}
	if len(name) > 64 {
		return fmt.Errorf("topo: %w: %s name %q is longer than 64 characters", ErrInvalid, kind, name)
	}
	for _, r := range name {
		if !isNameRune(r) {
			return fmt.Errorf("topo: %w: %s name %q has %q; use letters, digits, '-' and '_'", ErrInvalid, kind, name, r)
		}
	}
	return nil
}

func isNameRune(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_'
}

// ValidateCellName checks a cell name: what Vitess accepts in a tablet alias (letters, digits,
// '-', '_', '.'), and not "global", which Vitess reserves for the global topo.
func ValidateCellName(cell string) error {
	if cell == "" {
		return fmt.Errorf("topo: %w: empty cell name", ErrInvalid)
	}
	if cell == "global" {
		return fmt.Errorf("topo: %w: cell name \"global\" is reserved for the global topo; pick another", ErrInvalid)
	}
	for _, r := range cell {
		if !isNameRune(r) && r != '.' {
			return fmt.Errorf("topo: %w: cell name %q has %q; use letters, digits, '-', '_' and '.'", ErrInvalid, cell, r)
		}
	}
	if cell == "." || cell == ".." {
		return fmt.Errorf("topo: %w: cell name %q", ErrInvalid, cell)
	}
	return nil
}

// ParseKeyspaceShard splits "ks/shard".
func ParseKeyspaceShard(s string) (keyspace, shard string, err error) {
	ks, sh, ok := strings.Cut(s, "/")
	if !ok || ks == "" || sh == "" {
		return "", "", fmt.Errorf("topo: %w: %q: want <keyspace>/<shard>, e.g. commerce/0 or customer/-80", ErrInvalid, s)
	}
	return ks, sh, nil
}
