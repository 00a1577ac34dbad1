package topo

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// ChangeTabletType sets a tablet record's type the way Vitess's reparents do
// (go/vt/topotools.ChangeType): a PRIMARY gets termStart as its primary_term_start_time, any
// other type has it cleared. tags, when not nil, replaces the given tags (an empty value
// deletes the tag). It returns the record as written; writing nothing when nothing changes.
func (s *Server) ChangeTabletType(ctx context.Context, alias *topodatapb.TabletAlias, newType topodatapb.TabletType, termStart time.Time, tags map[string]string) (*topodatapb.Tablet, error) {
	return s.UpdateTabletFields(ctx, alias, func(t *topodatapb.Tablet) error {
		before := proto.Clone(t).(*topodatapb.Tablet)
		t.Type = newType
		t.PrimaryTermStartTime = nil
		if newType == topodatapb.TabletType_PRIMARY {
			t.PrimaryTermStartTime = protoTime(termStart)
		}
		for k, v := range tags {
			if v == "" {
				delete(t.Tags, k)
				continue
			}
			if t.Tags == nil {
				t.Tags = map[string]string{}
			}
			t.Tags[k] = v
		}
		if proto.Equal(before, t) {
			return errNoUpdate
		}
		return nil
	})
}
