package topo

import (
	"context"
	"errors"
	"fmt"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"
)

// CreateShard creates a shard of an existing keyspace. Like Vitess, the key range comes from
// the name, and the primary is marked serving unless another shard's range overlaps.
func (s *Server) CreateShard(ctx context.Context, keyspace, shard string) error {
	if _, err := s.GetKeyspace(ctx, keyspace); err != nil {
		return err
	}
	name, kr, err := ShardKeyRange(shard)
	if err != nil {
		return err
	}
	if name != shard {
		return fmt.Errorf("topo: %w: shard %q must be lower case: %q", ErrInvalid, shard, name)
	}
	value := &topodatapb.Shard{KeyRange: kr, IsPrimaryServing: true}
	others, err := s.ListShards(ctx, keyspace)
	if err != nil {
		return err
	}
	for _, other := range others {
		if other == shard {
			continue
		}
		si, err := s.GetShard(ctx, keyspace, other)
		if err != nil {
			return err
		}
		if keyRangesIntersect(si.KeyRange, kr) {
			value.IsPrimaryServing = false
			break
		}
	}
	err = createRecord(ctx, s.global, shardPath(keyspace, shard), value)
	if errors.Is(err, ErrNodeExists) {
		return fmt.Errorf("shard %s/%s already exists: %w", keyspace, shard, err)
	}
	return err
}

// GetShard reads a shard record.
func (s *Server) GetShard(ctx context.Context, keyspace, shard string) (*topodatapb.Shard, error) {
	if err := validateKeyspaceShard(keyspace, shard); err != nil {
		return nil, err
	}
	si, _, err := getRecord[topodatapb.Shard](ctx, s.global, shardPath(keyspace, shard))
	if errors.Is(err, ErrNoNode) {
		return nil, fmt.Errorf("shard %s/%s does not exist; add it with `vtdirect topo add-shard %s/%s`: %w", keyspace, shard, keyspace, shard, err)
	}
	return si, err
}

// ListShards returns the sorted shard names of a keyspace (ErrNoNode if the keyspace does not
// exist, an empty list if it has no shards).
func (s *Server) ListShards(ctx context.Context, keyspace string) ([]string, error) {
	if err := ValidateName("keyspace", keyspace); err != nil {
		return nil, err
	}
	names, err := s.global.ListDir(ctx, shardsDir(keyspace))
	if errors.Is(err, ErrNoNode) {
		if _, kerr := s.GetKeyspace(ctx, keyspace); kerr != nil {
			return nil, kerr
		}
		return nil, nil
	}
	return names, err
}

// DeleteShard removes a shard. It refuses while a cell lists tablets of the shard in its
// ShardReplication, and removes the (then empty) ShardReplication records of every cell.
func (s *Server) DeleteShard(ctx context.Context, keyspace, shard string) error {
	if _, err := s.GetShard(ctx, keyspace, shard); err != nil && !errors.Is(err, ErrCorrupt) {
		return err
	}
	cells, err := s.ListCells(ctx)
	if err != nil {
		return err
	}
	for _, cell := range cells {
		sr, err := s.GetShardReplication(ctx, cell, keyspace, shard)
		if errors.Is(err, ErrNoNode) {
			continue
		}
		if err != nil {
			return fmt.Errorf("topo: cannot check cell %s for tablets of %s/%s: %w", cell, keyspace, shard, err)
		}
		if len(sr.Nodes) > 0 {
			return fmt.Errorf("topo: shard %s/%s still has tablet %s in cell %s; remove its tablets first (`vtdirect topo remove-tablet %s`)",
				keyspace, shard, TabletAliasString(sr.Nodes[0].TabletAlias), cell, TabletAliasString(sr.Nodes[0].TabletAlias))
		}
		conn, err := s.CellConn(ctx, cell)
		if err != nil {
			return err
		}
		if err := conn.Delete(ctx, shardReplicationPath(keyspace, shard), nil); err != nil && !errors.Is(err, ErrNoNode) {
			return err
		}
	}
	return s.global.Delete(ctx, shardPath(keyspace, shard), nil)
}

// UpdateShardFields applies update to a shard record with compare-and-swap, retrying when
// someone else writes it meanwhile, and returns the record written.
func (s *Server) UpdateShardFields(ctx context.Context, keyspace, shard string, update func(*topodatapb.Shard) error) (*topodatapb.Shard, error) {
	if err := validateKeyspaceShard(keyspace, shard); err != nil {
		return nil, err
	}
	si, err := updateRecord(ctx, s.global, shardPath(keyspace, shard), false, update)
	if errors.Is(err, ErrNoNode) {
		return nil, fmt.Errorf("shard %s/%s does not exist; add it with `vtdirect topo add-shard %s/%s`: %w", keyspace, shard, keyspace, shard, err)
	}
	return si, err
}

// SetShardPrimary records primary as the shard's primary, with its term starting at
// termStart. It only writes the Shard record; tablet types are the caller's business.
func (s *Server) SetShardPrimary(ctx context.Context, keyspace, shard string, primary *topodatapb.TabletAlias, termStart time.Time) error {
	if primary == nil {
		return fmt.Errorf("topo: %w: set primary of %s/%s: no tablet alias", ErrInvalid, keyspace, shard)
	}
	_, err := s.UpdateShardFields(ctx, keyspace, shard, func(si *topodatapb.Shard) error {
		si.PrimaryAlias = primary.CloneVT()
		si.PrimaryTermStartTime = protoTime(termStart)
		return nil
	})
	return err
}

func protoTime(t time.Time) *vttimepb.Time {
	return &vttimepb.Time{Seconds: t.Unix(), Nanoseconds: int32(t.Nanosecond())}
}

func validateKeyspaceShard(keyspace, shard string) error {
	if err := ValidateName("keyspace", keyspace); err != nil {
		return err
	}
	return ValidateName("shard", shard)
}
