package gateway

// VStream source fitness: before a VStream picks a source tablet, each tablet of the shard is
// checked (at most every fitnessTTL) for the binlog settings a change stream needs
// (vstream.CheckSourceSettings: binlog_format=ROW, binlog_row_image=FULL, log_bin,
// log_slave_updates on replicas, gtid_strict_mode) and for a server_id no other tablet of the
// shard has. An unfit tablet is handed to the picker as Options.Unfit, so it is never chosen
// as a VStream source and /debug/picker?purpose=vstream says why; query routing does not use
// this and is not affected.

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/sync/errgroup"

	"github.com/vtdirect/vtdirect/backendconn"
	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/vstream"
)

// fitnessTTL is how long a tablet's check is trusted.
const fitnessTTL = 30 * time.Second

// fitCheck is the last check of one tablet.
type fitCheck struct {
	at       time.Time
	addr     string
	reason   string // "" when fit
	serverID uint32
}

// sourceFitness checks and remembers the fitness of tablets as VStream sources.
type sourceFitness struct {
	user, password string
	tlsMode        backendconn.TLSMode
	tlsConfig      *tls.Config
	now            func() time.Time

	mu     sync.Mutex // guards checks
	checks map[picker.Alias]fitCheck
}

func newSourceFitness(user, password string, mode backendconn.TLSMode, tlsConfig *tls.Config) *sourceFitness {
	return &sourceFitness{user: user, password: password, tlsMode: mode, tlsConfig: tlsConfig, now: time.Now, checks: map[picker.Alias]fitCheck{}}
}

// unfit returns the tablets of the shard that are not fit as sources, with why, checking
// those whose last check is stale. Unreachable tablets are left to the picker's health rules.
func (f *sourceFitness) unfit(ctx context.Context, sh *discovery.Shard) map[picker.Alias]string {
	if sh == nil {
		return nil
	}
	now := f.now()
	var stale []*discovery.Tablet
	f.mu.Lock()
	for _, t := range sh.Tablets {
		a, err := picker.ParseAlias(t.Alias)
		if err != nil || !t.Health().Reachable {
			continue
		}
		c, ok := f.checks[a]
		if !ok || now.Sub(c.at) > fitnessTTL || c.addr != t.Server.Addr() {
			stale = append(stale, t)
		}
	}
	f.mu.Unlock()
	if len(stale) > 0 {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var g errgroup.Group
		for _, t := range stale {
			g.Go(func() error {
				c := f.check(ctx, t)
				a, _ := picker.ParseAlias(t.Alias)
				f.mu.Lock()
				f.checks[a] = c
				f.mu.Unlock()
				return nil
			})
		}
		_ = g.Wait()
		cancel()
	}
	out := map[picker.Alias]string{}
	byID := map[uint32][]string{}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range sh.Tablets {
		a, err := picker.ParseAlias(t.Alias)
		if err != nil {
			continue
		}
		c, ok := f.checks[a]
		if !ok || c.addr != t.Server.Addr() {
			continue
		}
		if c.reason != "" {
			out[a] = c.reason
		}
		if c.serverID != 0 {
			byID[c.serverID] = append(byID[c.serverID], t.Alias)
		}
	}
	for id, aliases := range byID {
		if len(aliases) < 2 {
			continue
		}
		for _, al := range aliases {
			a, _ := picker.ParseAlias(al)
			why := fmt.Sprintf("server_id %d is shared by tablets %v: a change stream needs a unique server_id per server (give every server its own --server-id)", id, aliases)
			if out[a] != "" {
				why = out[a] + "; " + why
			}
			out[a] = why
		}
	}
	return out
}

// check reads one tablet's settings. A tablet that cannot be checked (a timeout, a refused
// login) is not held unfit: the stream's own check at connect decides.
func (f *sourceFitness) check(ctx context.Context, t *discovery.Tablet) fitCheck {
	c := fitCheck{at: f.now(), addr: t.Server.Addr()}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = f.user, f.password, "tcp", t.Server.Addr()
	cfg.TLS, cfg.AllowFallbackToPlaintext = backendconn.DriverTLS(f.tlsMode, f.tlsConfig, t.Server.Addr())
	cfg.Timeout = 3 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return c
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(1)
	res, err := vstream.CheckSourceSettings(ctx, db, false)
	if err != nil {
		c.at = time.Time{} // check again next time
		return c
	}
	c.serverID = res.Settings.ServerID
	if !res.Fit() {
		c.reason = res.Reason()
	}
	return c
}
