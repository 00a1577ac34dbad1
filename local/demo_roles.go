package local

// The demo after a failover: which tablet is the primary is the topo's business, not the
// layout's. `local up` run again, `local status` and `local down` read the roles there, and
// `local kill` crashes one tablet to watch the gateway recover.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/topo"
)

// roles is each demo tablet's type as the topo records it, and the shard's primary.
type roles struct {
	types   map[string]topodatapb.TabletType // by alias "zone1-100"
	primary string                           // "" when the shard names none (not initialised)
}

// typeOf returns the tablet's type from the topo, else from the layout.
func (r roles) typeOf(s TabletSpec) topodatapb.TabletType {
	if t, ok := r.types[s.Alias()]; ok {
		return t
	}
	return s.Type
}

// currentRoles reads the roles from the demo's topo; a topo that cannot be read or holds no
// shard yet gives empty roles (the layout's then apply).
func currentRoles(ctx context.Context, cfg *DemoConfig) roles {
	r := roles{types: map[string]topodatapb.TabletType{}}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ts, err := topo.Open(tctx, topo.ImplEtcd, cfg.EtcdAddr(), cfg.Layout.GlobalRoot)
	if err != nil {
		return r
	}
	defer ts.Close()
	si, err := ts.GetShard(tctx, cfg.Layout.Keyspace, cfg.Layout.Shard)
	if err != nil {
		return r
	}
	if a := si.GetPrimaryAlias(); a != nil {
		r.primary = a.GetCell() + "-" + strconv.FormatUint(uint64(a.GetUid()), 10)
	}
	tablets, err := ts.GetTabletsByShard(tctx, cfg.Layout.Keyspace, cfg.Layout.Shard)
	if err != nil {
		return r
	}
	for _, t := range tablets {
		r.types[t.GetAlias().GetCell()+"-"+strconv.FormatUint(uint64(t.GetAlias().GetUid()), 10)] = t.GetType()
	}
	return r
}

// Kill crashes one tablet's mariadbd of the demo cluster in dir with SIGKILL (kill -9), to
// see failover at work; `local up` starts it again (read-only: failover decides what it
// becomes).
func Kill(ctx context.Context, dir, alias string, out io.Writer) error {
	cfg, ok, err := LoadDemoConfig(dir)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no vtdirect local cluster in %s (start one with `vtdirect local up --dir %s`)", dir, dir)
	}
	var spec *TabletSpec
	for i := range cfg.Layout.Tablets {
		if cfg.Layout.Tablets[i].Alias() == alias {
			spec = &cfg.Layout.Tablets[i]
		}
	}
	if spec == nil {
		var names []string
		for _, t := range cfg.Layout.Tablets {
			names = append(names, t.Alias())
		}
		return fmt.Errorf("no tablet %s in the demo cluster (its tablets: %v)", alias, names)
	}
	tdir := cfg.tabletDir(*spec)
	pid := liveProcess(filepath.Join(tdir, pidFileName), filepath.Join(tdir, myCnfName))
	if pid == 0 {
		return fmt.Errorf("tablet %s is not running", alias)
	}
	role := currentRoles(ctx, &cfg).typeOf(*spec)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pid %d): %w", alias, pid, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for ProcessAlive(pid) {
		select {
		case <-wctx.Done():
			return fmt.Errorf("tablet %s (pid %d) still runs after SIGKILL", alias, pid)
		case <-time.After(10 * time.Millisecond):
		}
	}
	fmt.Fprintf(out, "killed mariadbd of %s (%s, pid %d) with SIGKILL.\n", alias, role, pid)
	if role == topodatapb.TabletType_PRIMARY {
		fmt.Fprintf(out, "The gateway's failover promotes a replica within a few seconds; watch it with\n"+
			"  vtdirect local status --dir %s\n  curl -s 'http://127.0.0.1:%d/debug/failover?format=text'\n", dir, cfg.Gateway.HTTPPort)
	}
	fmt.Fprintf(out, "`vtdirect local up --dir %s` starts it again (read-only; failover makes it a replica, or keeps it out if it holds lost writes).\n", dir)
	return nil
}
