package topo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// ErrEmptyRoot: nothing exists below the global root (a wrong --topo-root, or a topology not
// created yet).
var ErrEmptyRoot = errors.New("the topo root is empty")

// CheckRoot fails unless something exists below the global root, with an error naming the
// root, so that a gateway given a wrong --topo-root says so instead of serving an empty
// topology. A topology being built (`vtdirect topo add-cell` on a fresh root) does not call it.
func (s *Server) CheckRoot(ctx context.Context) error {
	names, err := s.global.ListDir(ctx, "")
	if errors.Is(err, ErrNoNode) || err == nil && len(names) == 0 {
		return keyError(fullKey(s.global, ""), fmt.Errorf("%w: no cells, keyspaces or anything else; is --topo-root right (Vitess's usual roots: /vitess/global on etcd, vitess/global on Consul)?", ErrEmptyRoot))
	}
	return err
}

// Check reads the whole global topology and reports what a reader would trip on, every
// problem naming its key: an empty root, records that do not decode, cells whose topo cannot
// be read, cell aliases naming cells that do not exist. nil means the topology is sound.
func (s *Server) Check(ctx context.Context) error {
	if err := s.CheckRoot(ctx); err != nil {
		return err
	}
	var errs []error
	cells, err := s.ListCells(ctx)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(cells))
	for _, cell := range cells {
		if _, err := s.GetCellInfo(ctx, cell); err != nil {
			errs = append(errs, err)
			continue
		}
		known[cell] = true
		if _, err := s.ListTablets(ctx, cell); err != nil {
			errs = append(errs, fmt.Errorf("cell %s: %w", cell, err))
		}
	}
	aliases, err := s.GetCellsAliases(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for _, name := range slices.Sorted(maps.Keys(aliases)) {
		for _, cell := range aliases[name].GetCells() {
			if !known[cell] {
				errs = append(errs, keyError(fullKey(s.global, cellsAliasPath(name)),
					fmt.Errorf("%w: cell alias %s names cell %s, which does not exist; add the cell or fix the alias", ErrNoNode, name, cell)))
			}
		}
	}
	keyspaces, err := s.ListKeyspaces(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for _, ks := range keyspaces {
		if _, err := s.GetKeyspace(ctx, ks); err != nil {
			errs = append(errs, err)
			continue
		}
		shards, err := s.ListShards(ctx, ks)
		if err != nil {
			errs = append(errs, err)
		}
		for _, sh := range shards {
			if _, err := s.GetShard(ctx, ks, sh); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
