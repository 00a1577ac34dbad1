package topo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// CreateCellInfo registers a cell: where its topo lives (ServerAddress, Root).
func (s *Server) CreateCellInfo(ctx context.Context, cell string, ci *topodatapb.CellInfo) error {
	if err := ValidateCellName(cell); err != nil {
		return err
	}
	if ci == nil || ci.ServerAddress == "" || ci.Root == "" {
		return fmt.Errorf("topo: %w: cell %s needs a server address and a root (e.g. 127.0.0.1:2379 and /vitess/%s)", ErrInvalid, cell, cell)
	}
	if _, err := cleanRoot(ci.Root); err != nil {
		return err
	}
	err := createRecord(ctx, s.global, cellInfoPath(cell), ci)
	if errors.Is(err, ErrNodeExists) {
		return fmt.Errorf("cell %s already exists (remove it first with `vtdirect topo remove-cell %s`): %w", cell, cell, err)
	}
	return err
}

// GetCellInfo reads a cell's CellInfo; ErrNoNode if the cell does not exist.
func (s *Server) GetCellInfo(ctx context.Context, cell string) (*topodatapb.CellInfo, error) {
	if err := ValidateCellName(cell); err != nil {
		return nil, err
	}
	ci, _, err := getRecord[topodatapb.CellInfo](ctx, s.global, cellInfoPath(cell))
	if errors.Is(err, ErrNoNode) {
		return nil, fmt.Errorf("cell %s does not exist; add it with `vtdirect topo add-cell %s`: %w", cell, cell, err)
	}
	return ci, err
}

// ListCells returns the sorted cell names (none: an empty list).
func (s *Server) ListCells(ctx context.Context) ([]string, error) {
	return listDirOrEmpty(ctx, s.global, CellsPath)
}

// DeleteCellInfo removes a cell. Unless force, it refuses while a cell alias names the cell or
// the cell's topo still holds tablets (or cannot be read). It does not touch the cell's topo.
func (s *Server) DeleteCellInfo(ctx context.Context, cell string, force bool) error {
	if _, err := s.GetCellInfo(ctx, cell); err != nil {
		return err
	}
	if !force {
		aliases, err := s.GetCellsAliases(ctx)
		if err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(aliases)) {
			if slices.Contains(aliases[name].Cells, cell) {
				return fmt.Errorf("topo: cell %s is in cell alias %s; remove the alias first (`vtdirect topo remove-cell-alias %s`) or use --force", cell, name, name)
			}
		}
		aliasesInCell, err := s.ListTabletAliases(ctx, cell)
		if err != nil {
			return fmt.Errorf("topo: cannot check cell %s for tablets (use --force to remove it anyway): %w", cell, err)
		}
		if len(aliasesInCell) > 0 {
			return fmt.Errorf("topo: cell %s still has %d tablet(s), e.g. %s; remove them first (`vtdirect topo remove-tablet ALIAS`) or use --force",
				cell, len(aliasesInCell), TabletAliasString(aliasesInCell[0]))
		}
	}
	if err := s.global.Delete(ctx, cellInfoPath(cell), nil); err != nil {
		return err
	}
	s.mu.Lock()
	cc := s.cells[cell]
	delete(s.cells, cell)
	s.mu.Unlock()
	if cc != nil {
		cc.conn.Close()
	}
	return nil
}

// CreateCellsAlias creates a named group of cells. Every cell must exist, the name must not be
// a cell's, and no cell may already be in another alias (Vitess's rule).
func (s *Server) CreateCellsAlias(ctx context.Context, alias string, ca *topodatapb.CellsAlias) error {
	if err := ValidateName("cell alias", alias); err != nil {
		return err
	}
	if ca == nil || len(ca.Cells) == 0 {
		return fmt.Errorf("topo: %w: cell alias %s needs at least one cell (--cells zone1,zone2)", ErrInvalid, alias)
	}
	for _, cell := range ca.Cells {
		if _, err := s.GetCellInfo(ctx, cell); err != nil {
			return fmt.Errorf("topo: cell alias %s: %w", alias, err)
		}
	}
	if _, err := s.GetCellInfo(ctx, alias); err == nil {
		return fmt.Errorf("topo: %w: cell alias %s has the name of a cell; pick another name", ErrInvalid, alias)
	}
	existing, err := s.GetCellsAliases(ctx)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(existing)) {
		for _, cell := range ca.Cells {
			if name != alias && slices.Contains(existing[name].Cells, cell) {
				return fmt.Errorf("topo: %w: cell %s is already in cell alias %s; a cell belongs to one alias at most", ErrInvalid, cell, name)
			}
		}
	}
	err = createRecord(ctx, s.global, cellsAliasPath(alias), ca)
	if errors.Is(err, ErrNodeExists) {
		return fmt.Errorf("cell alias %s already exists (remove it first with `vtdirect topo remove-cell-alias %s`): %w", alias, alias, err)
	}
	return err
}

// GetCellsAlias reads one cell alias.
func (s *Server) GetCellsAlias(ctx context.Context, alias string) (*topodatapb.CellsAlias, error) {
	if err := ValidateName("cell alias", alias); err != nil {
		return nil, err
	}
	ca, _, err := getRecord[topodatapb.CellsAlias](ctx, s.global, cellsAliasPath(alias))
	return ca, err
}

// ListCellsAliases returns the sorted alias names.
func (s *Server) ListCellsAliases(ctx context.Context) ([]string, error) {
	return listDirOrEmpty(ctx, s.global, CellsAliasesPath)
}

// GetCellsAliases reads every cell alias, by name.
func (s *Server) GetCellsAliases(ctx context.Context) (map[string]*topodatapb.CellsAlias, error) {
	names, err := s.ListCellsAliases(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*topodatapb.CellsAlias, len(names))
	for _, name := range names {
		ca, _, err := getRecord[topodatapb.CellsAlias](ctx, s.global, cellsAliasPath(name))
		if errors.Is(err, ErrNoNode) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, err
		}
		out[name] = ca
	}
	return out, nil
}

// DeleteCellsAlias removes a cell alias (the cells stay).
func (s *Server) DeleteCellsAlias(ctx context.Context, alias string) error {
	if err := ValidateName("cell alias", alias); err != nil {
		return err
	}
	return s.global.Delete(ctx, cellsAliasPath(alias), nil)
}

// GetCellInfoNames is ListCells under Vitess's name.
func (s *Server) GetCellInfoNames(ctx context.Context) ([]string, error) { return s.ListCells(ctx) }
