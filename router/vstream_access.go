package router

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"

	"github.com/vtdirect/vtdirect/acl"
)

// CheckVStream says whether user may stream what a VStream request asks for: read in every
// keyspace of its VGTID, the tablet types it may read from and, under the table ACL, read on
// every table of its filter (a /regex or no filter means every table). It is the VStream
// side of the access rules; the gRPC service calls it before the stream starts.
func (e *Executor) CheckVStream(user, host string, req *vtgatepb.VStreamRequest) error {
	u := e.policy.Load().User(user)
	if u.Open() && u.AllTabletTypes() {
		return nil
	}
	for _, tt := range streamTabletTypes(req) {
		if !u.TabletTypeAllowed(tt) {
			return &mysql.MyError{Code: mysql.ER_DBACCESS_DENIED_ERROR, State: "42000", Message: fmt.Sprintf(
				"Access denied for user '%s'@'%s' (vtdirect: the stream may read from %s tablets, which the user's access rules do not allow; "+
					"set tablet_type and flags.tablet_order to allowed types)", user, host, strings.ToLower(tt.String()))}
		}
	}
	var rules []string
	for _, r := range req.GetFilter().GetRules() {
		rules = append(rules, r.GetMatch())
	}
	for _, sg := range req.GetVgtid().GetShardGtids() {
		ks := sg.GetKeyspace()
		if len(rules) == 0 {
			if err := u.CheckTableRead(ks, "", host); err != nil {
				return err
			}
		}
		for _, m := range rules {
			table := m
			if strings.HasPrefix(m, "/") {
				table = ""
			}
			if err := u.CheckTableRead(ks, table, host); err != nil {
				return err
			}
		}
	}
	return nil
}

// streamTabletTypes are the tablet types a VStream request may read from (REPLICA by
// default, or the list of flags.tablet_order's "in_order:A,B" / "any:A,B").
func streamTabletTypes(req *vtgatepb.VStreamRequest) []topodatapb.TabletType {
	tt := req.GetTabletType()
	if tt == topodatapb.TabletType_UNKNOWN {
		tt = topodatapb.TabletType_REPLICA
	}
	_, list, ok := strings.Cut(req.GetFlags().GetTabletOrder(), ":")
	if !ok {
		return []topodatapb.TabletType{tt}
	}
	var out []topodatapb.TabletType
	for name := range strings.SplitSeq(list, ",") {
		if t, err := acl.ParseTabletType(name); err == nil {
			out = append(out, t)
		}
	}
	return out
}
