package topo

import (
	"context"
	"fmt"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// GetShardReplication reads the ShardReplication record of a shard in a cell: the tablets of
// the shard in that cell. ErrNoNode if the cell never had a tablet of the shard.
func (s *Server) GetShardReplication(ctx context.Context, cell, keyspace, shard string) (*topodatapb.ShardReplication, error) {
	if err := validateKeyspaceShard(keyspace, shard); err != nil {
		return nil, err
	}
	conn, err := s.CellConn(ctx, cell)
	if err != nil {
		return nil, err
	}
	sr, _, err := getRecord[topodatapb.ShardReplication](ctx, conn, shardReplicationPath(keyspace, shard))
	return sr, err
}

// addToShardReplication adds a tablet to its cell's ShardReplication for its shard (creating
// the record), dropping duplicates like Vitess's UpdateShardReplicationRecord.
func addToShardReplication(ctx context.Context, conn Conn, keyspace, shard string, alias *topodatapb.TabletAlias) error {
	_, err := updateRecord(ctx, conn, shardReplicationPath(keyspace, shard), true, func(sr *topodatapb.ShardReplication) error {
		nodes := make([]*topodatapb.ShardReplication_Node, 0, len(sr.Nodes)+1)
		found, modified := false, false
		for _, n := range sr.Nodes {
			if aliasEqual(n.TabletAlias, alias) {
				if found {
					modified = true
					continue
				}
				found = true
			}
			nodes = append(nodes, n)
		}
		if !found {
			nodes = append(nodes, &topodatapb.ShardReplication_Node{TabletAlias: alias.CloneVT()})
			modified = true
		}
		if !modified {
			return errNoUpdate
		}
		sr.Nodes = nodes
		return nil
	})
	if err != nil {
		return fmt.Errorf("topo: add %s to the shard replication of %s/%s: %w", TabletAliasString(alias), keyspace, shard, err)
	}
	return nil
}

// removeFromShardReplication removes a tablet from its cell's ShardReplication for its shard.
// The record stays, possibly empty, as with Vitess; a missing record is not an error.
func removeFromShardReplication(ctx context.Context, conn Conn, keyspace, shard string, alias *topodatapb.TabletAlias) error {
	_, err := updateRecord(ctx, conn, shardReplicationPath(keyspace, shard), false, func(sr *topodatapb.ShardReplication) error {
		nodes := make([]*topodatapb.ShardReplication_Node, 0, len(sr.Nodes))
		for _, n := range sr.Nodes {
			if !aliasEqual(n.TabletAlias, alias) {
				nodes = append(nodes, n)
			}
		}
		if len(nodes) == len(sr.Nodes) {
			return errNoUpdate
		}
		sr.Nodes = nodes
		return nil
	})
	if err != nil && !IsNoNode(err) {
		return fmt.Errorf("topo: remove %s from the shard replication of %s/%s: %w", TabletAliasString(alias), keyspace, shard, err)
	}
	return nil
}

func aliasEqual(a, b *topodatapb.TabletAlias) bool {
	return a != nil && b != nil && a.Cell == b.Cell && a.Uid == b.Uid
}
