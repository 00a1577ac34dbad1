package topo

import (
	"context"
	"errors"
	"fmt"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vschemapb "vitess.io/vitess/go/vt/proto/vschema"
)

// CreateKeyspace creates a keyspace record (nil ks: an empty one, i.e. a normal keyspace) and,
// like Vitess's tools, an empty VSchema if the keyspace has none.
func (s *Server) CreateKeyspace(ctx context.Context, name string, ks *topodatapb.Keyspace) error {
	if err := ValidateName("keyspace", name); err != nil {
		return err
	}
	if ks == nil {
		ks = &topodatapb.Keyspace{}
	}
	if err := createRecord(ctx, s.global, keyspacePath(name), ks); err != nil {
		if errors.Is(err, ErrNodeExists) {
			return fmt.Errorf("keyspace %s already exists: %w", name, err)
		}
		return err
	}
	err := createRecord(ctx, s.global, vschemaPath(name), &vschemapb.Keyspace{})
	if errors.Is(err, ErrNodeExists) {
		return nil
	}
	return err
}

// GetKeyspace reads a keyspace record.
func (s *Server) GetKeyspace(ctx context.Context, name string) (*topodatapb.Keyspace, error) {
	if err := ValidateName("keyspace", name); err != nil {
		return nil, err
	}
	ks, _, err := getRecord[topodatapb.Keyspace](ctx, s.global, keyspacePath(name))
	if errors.Is(err, ErrNoNode) {
		return nil, fmt.Errorf("keyspace %s does not exist; add it with `vtdirect topo add-keyspace %s`: %w", name, name, err)
	}
	return ks, err
}

// ListKeyspaces returns the sorted keyspace names.
func (s *Server) ListKeyspaces(ctx context.Context) ([]string, error) {
	return listDirOrEmpty(ctx, s.global, KeyspacesPath)
}

// DeleteKeyspace removes a keyspace and its VSchema. It refuses while the keyspace has shards.
func (s *Server) DeleteKeyspace(ctx context.Context, name string) error {
	if _, err := s.GetKeyspace(ctx, name); err != nil && !errors.Is(err, ErrCorrupt) {
		return err
	}
	shards, err := s.ListShards(ctx, name)
	if err != nil && !errors.Is(err, ErrNoNode) {
		return err
	}
	if len(shards) > 0 {
		return fmt.Errorf("topo: keyspace %s still has shard(s) %v; remove them first (`vtdirect topo remove-shard %s/%s`)", name, shards, name, shards[0])
	}
	if err := s.global.Delete(ctx, vschemaPath(name), nil); err != nil && !errors.Is(err, ErrNoNode) {
		return err
	}
	return s.global.Delete(ctx, keyspacePath(name), nil)
}

// GetVSchema reads a keyspace's VSchema.
func (s *Server) GetVSchema(ctx context.Context, keyspace string) (*vschemapb.Keyspace, error) {
	if err := ValidateName("keyspace", keyspace); err != nil {
		return nil, err
	}
	vs, _, err := getRecord[vschemapb.Keyspace](ctx, s.global, vschemaPath(keyspace))
	return vs, err
}

// SaveVSchema writes a keyspace's VSchema unconditionally; the keyspace must exist.
func (s *Server) SaveVSchema(ctx context.Context, keyspace string, vs *vschemapb.Keyspace) error {
	if _, err := s.GetKeyspace(ctx, keyspace); err != nil {
		return err
	}
	data, err := vs.MarshalVT()
	if err != nil {
		return fmt.Errorf("topo: encode vschema of %s: %w", keyspace, err)
	}
	_, err = s.global.Update(ctx, vschemaPath(keyspace), data, nil)
	return err
}

// GetKeyspaceNames is ListKeyspaces under Vitess's name.
func (s *Server) GetKeyspaceNames(ctx context.Context) ([]string, error) {
	return s.ListKeyspaces(ctx)
}
