package gateway

import (
	"errors"
	"fmt"
	"net/http"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/router"
	"github.com/vtdirect/vtdirect/stats"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// Reload is what a configuration reload may change in a running gateway.
type Reload struct {
	TabletServer tabletserver.Config
	TabletConfig func(*topodatapb.Tablet) tabletserver.Config
	Users        map[string]string
	// Access is the access rules (nil: every user may do everything); UserMaxConnections is
	// each user's own connection bound (absent: the gateway's).
	Access             *acl.Policy
	UserMaxConnections map[string]int
	Folding            stats.Folding
	Picker             router.PickerDefaults
}

// Reload applies r to the running gateway: the tablets' caps, timeouts and row limits, the
// servers' connection limits and passwords (new connections), the gateway's users (new
// logins; sessions keep theirs), the access rules (every session's next statement) and each
// user's connection bound (new logins), the picker settings and the metric folding. No session is
// dropped: a smaller cap takes effect as connections come back. It returns what could not be
// applied (it needs a restart).
func (g *Gateway) Reload(r Reload) ([]string, error) {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	if len(r.Users) == 0 && !g.cfg.InsecureNoAuth {
		return nil, fmt.Errorf("the new configuration has no MySQL users: nobody could log in; nothing was applied")
	}
	if err := g.Executor.SetPickerDefaults(r.Picker); err != nil {
		return nil, fmt.Errorf("picker settings: %w; nothing was applied", err)
	}
	not := g.Registry.Reconfigure(r.TabletServer, r.TabletConfig)
	u := users(r.Users)
	g.users.Store(&u)
	g.Executor.SetPolicy(r.Access)
	g.userMax.Store(&r.UserMaxConnections)
	g.stats.SetFolding(r.Folding)
	if g.vstreamStats != nil {
		g.vstreamStats.SetFolding(r.Folding)
	}
	g.cfg.Logger.Info("configuration reloaded", "not_applied", len(not))
	return not, nil
}

// ReloadFunc re-reads the configuration and applies it (cmd/vtdirect's, with --config).
type ReloadFunc func() (applied, notApplied []string, err error)

// SetReloader makes the gateway able to reload its configuration: POST /debug/config/reload
// and ReloadConfig call f.
func (g *Gateway) SetReloader(f ReloadFunc) { g.reloader.Store(&f) }

// ReloadResult is what a reload did.
type ReloadResult struct {
	Applied    []string `json:"applied"`
	NotApplied []string `json:"not_applied"`
	Error      string   `json:"error,omitempty"`
}

// ReloadConfig reloads the configuration (SIGHUP).
func (g *Gateway) ReloadConfig() (ReloadResult, error) {
	f := g.reloader.Load()
	if f == nil {
		return ReloadResult{}, errors.New("this gateway runs without a configuration file (serve --config): nothing to reload")
	}
	applied, not, err := (*f)()
	res := ReloadResult{Applied: orEmptyList(applied), NotApplied: orEmptyList(not)}
	if err != nil {
		res.Error = err.Error()
	}
	return res, err
}

func orEmptyList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// configReloadHandler serves POST /debug/config/reload (what `vtdirect config reload` asks).
func (g *Gateway) configReloadHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST to reload the configuration file", http.StatusMethodNotAllowed)
		return
	}
	res, err := g.ReloadConfig()
	if err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	writeJSON(w, res)
}
