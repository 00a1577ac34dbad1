package topo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// CreateTablet creates a tablet record in its cell and adds it to the cell's ShardReplication
// of its shard. The cell and the shard must exist.
func (s *Server) CreateTablet(ctx context.Context, t *topodatapb.Tablet) error {
	if err := validateTablet(t); err != nil {
		return err
	}
	if _, err := s.GetShard(ctx, t.Keyspace, t.Shard); err != nil {
		return err
	}
	conn, err := s.CellConn(ctx, t.Alias.Cell)
	if err != nil {
		return err
	}
	if err := createRecord(ctx, conn, tabletPath(t.Alias), t); err != nil {
		if errors.Is(err, ErrNodeExists) {
			return fmt.Errorf("tablet %s already exists (remove it first with `vtdirect topo remove-tablet %s`): %w", TabletAliasString(t.Alias), TabletAliasString(t.Alias), err)
		}
		return err
	}
	return addToShardReplication(ctx, conn, t.Keyspace, t.Shard, t.Alias)
}

// GetTablet reads a tablet record. A record whose alias is not the one of its key is corrupt.
func (s *Server) GetTablet(ctx context.Context, alias *topodatapb.TabletAlias) (*topodatapb.Tablet, error) {
	if err := validateAlias(alias); err != nil {
		return nil, err
	}
	conn, err := s.CellConn(ctx, alias.Cell)
	if err != nil {
		return nil, err
	}
	t, _, err := getTablet(ctx, conn, alias)
	return t, err
}

func getTablet(ctx context.Context, conn Conn, alias *topodatapb.TabletAlias) (*topodatapb.Tablet, Version, error) {
	p := tabletPath(alias)
	t, v, err := getRecord[topodatapb.Tablet](ctx, conn, p)
	if err != nil {
		return nil, nil, err
	}
	if err := checkTabletKey(conn, p, alias, t); err != nil {
		return nil, nil, err
	}
	return t, v, nil
}

// checkTabletKey catches records that decode but are not the tablet of their key.
func checkTabletKey(conn Conn, p string, alias *topodatapb.TabletAlias, t *topodatapb.Tablet) error {
	if !aliasEqual(t.Alias, alias) {
		return keyError(fullKey(conn, p), fmt.Errorf("%w: record is for tablet %s, not %s; rewrite or delete this key", ErrCorrupt, TabletAliasString(t.Alias), TabletAliasString(alias)))
	}
	return nil
}

// UpdateTabletFields applies update to a tablet record with compare-and-swap and returns the
// record written. The alias, keyspace and shard cannot change (delete and create instead).
func (s *Server) UpdateTabletFields(ctx context.Context, alias *topodatapb.TabletAlias, update func(*topodatapb.Tablet) error) (*topodatapb.Tablet, error) {
	if err := validateAlias(alias); err != nil {
		return nil, err
	}
	conn, err := s.CellConn(ctx, alias.Cell)
	if err != nil {
		return nil, err
	}
	p := tabletPath(alias)
	return updateRecord(ctx, conn, p, false, func(t *topodatapb.Tablet) error {
		if err := checkTabletKey(conn, p, alias, t); err != nil {
			return err
		}
		ks, shard := t.Keyspace, t.Shard
		if err := update(t); err != nil {
			return err
		}
		if !aliasEqual(t.Alias, alias) || t.Keyspace != ks || t.Shard != shard {
			return fmt.Errorf("topo: %w: tablet %s: alias, keyspace and shard cannot change; remove and add the tablet instead", ErrInvalid, TabletAliasString(alias))
		}
		return nil
	})
}

// DeleteTablet removes a tablet record and its entry in the cell's ShardReplication. A corrupt
// record is removed too (its ShardReplication entry, unknown, is then left behind).
func (s *Server) DeleteTablet(ctx context.Context, alias *topodatapb.TabletAlias) error {
	if err := validateAlias(alias); err != nil {
		return err
	}
	conn, err := s.CellConn(ctx, alias.Cell)
	if err != nil {
		return err
	}
	t, v, err := getTablet(ctx, conn, alias)
	switch {
	case errors.Is(err, ErrCorrupt):
		return conn.Delete(ctx, tabletPath(alias), nil)
	case err != nil:
		return err
	}
	if err := conn.Delete(ctx, tabletPath(alias), v); err != nil {
		return err
	}
	return removeFromShardReplication(ctx, conn, t.Keyspace, t.Shard, alias)
}

// ListTabletAliases returns the aliases of the tablets of a cell, sorted by uid.
func (s *Server) ListTabletAliases(ctx context.Context, cell string) ([]*topodatapb.TabletAlias, error) {
	conn, err := s.CellConn(ctx, cell)
	if err != nil {
		return nil, err
	}
	return listTabletAliases(ctx, conn, cell)
}

func listTabletAliases(ctx context.Context, conn Conn, cell string) ([]*topodatapb.TabletAlias, error) {
	names, err := listDirOrEmpty(ctx, conn, TabletsPath)
	if err != nil {
		return nil, err
	}
	out := make([]*topodatapb.TabletAlias, 0, len(names))
	for _, name := range names {
		a, err := ParseTabletAlias(name)
		if err != nil {
			return nil, keyError(fullKey(conn, TabletsPath+"/"+name), fmt.Errorf("%w: not a tablet alias: %v", ErrCorrupt, err))
		}
		if a.Cell != cell {
			return nil, keyError(fullKey(conn, TabletsPath+"/"+name), fmt.Errorf("%w: tablet of cell %s stored in cell %s", ErrCorrupt, a.Cell, cell))
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *topodatapb.TabletAlias) int { return cmp.Compare(a.Uid, b.Uid) })
	return out, nil
}

// ListTablets reads every tablet of a cell, sorted by uid.
func (s *Server) ListTablets(ctx context.Context, cell string) ([]*topodatapb.Tablet, error) {
	conn, err := s.CellConn(ctx, cell)
	if err != nil {
		return nil, err
	}
	aliases, err := listTabletAliases(ctx, conn, cell)
	if err != nil {
		return nil, err
	}
	out := make([]*topodatapb.Tablet, 0, len(aliases))
	for _, a := range aliases {
		t, _, err := getTablet(ctx, conn, a)
		if errors.Is(err, ErrNoNode) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// GetTabletsByShard reads the tablets of a shard in every cell, found through each cell's
// ShardReplication, sorted by cell then uid. Entries whose tablet record is gone are skipped.
func (s *Server) GetTabletsByShard(ctx context.Context, keyspace, shard string) ([]*topodatapb.Tablet, error) {
	if err := validateKeyspaceShard(keyspace, shard); err != nil {
		return nil, err
	}
	cells, err := s.ListCells(ctx)
	if err != nil {
		return nil, err
	}
	var out []*topodatapb.Tablet
	for _, cell := range cells {
		conn, err := s.CellConn(ctx, cell)
		if err != nil {
			return nil, err
		}
		sr, _, err := getRecord[topodatapb.ShardReplication](ctx, conn, shardReplicationPath(keyspace, shard))
		if errors.Is(err, ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		aliases := make([]*topodatapb.TabletAlias, 0, len(sr.Nodes))
		for _, n := range sr.Nodes {
			if n.TabletAlias != nil {
				aliases = append(aliases, n.TabletAlias)
			}
		}
		slices.SortFunc(aliases, func(a, b *topodatapb.TabletAlias) int { return cmp.Compare(a.Uid, b.Uid) })
		for _, a := range aliases {
			t, _, err := getTablet(ctx, conn, a)
			if errors.Is(err, ErrNoNode) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	return out, nil
}

func validateAlias(a *topodatapb.TabletAlias) error {
	if a == nil {
		return fmt.Errorf("topo: %w: no tablet alias", ErrInvalid)
	}
	return ValidateCellName(a.Cell)
}

func validateTablet(t *topodatapb.Tablet) error {
	if t == nil {
		return fmt.Errorf("topo: %w: no tablet", ErrInvalid)
	}
	if err := validateAlias(t.Alias); err != nil {
		return err
	}
	if err := validateKeyspaceShard(t.Keyspace, t.Shard); err != nil {
		return fmt.Errorf("tablet %s: %w", TabletAliasString(t.Alias), err)
	}
	return nil
}
