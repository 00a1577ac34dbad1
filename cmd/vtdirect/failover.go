package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/topo"
)

// newFailoverCmd is `vtdirect failover status|ack`.
func newFailoverCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "failover",
		Short: "Show the failover analysis and recoveries, acknowledge a recovery",
		Long: `The gateways started with --enable-failover elect one leader through the topo; it watches
every shard and reparents a shard whose primary died. These commands find the leader in the topo
(or use --server) and read the journal the recoveries write in the topo.`,
	}
	tf := addTopoFlags(cmd.PersistentFlags())
	var server string
	cmd.PersistentFlags().StringVar(&server, "server", "", "a gateway's HTTP address (default: the failover leader's, from the topo)")
	cmd.AddCommand(failoverStatusCmd(tf, &server), failoverAckCmd(tf))
	return cmd
}

func failoverStatusCmd(tf *topoFlags, server *string) *cobra.Command {
	return &cobra.Command{
		Use:   "status [KEYSPACE/SHARD]",
		Short: "Show the latest analysis of every shard, the tablets' readings and the recent recoveries (from the leader), or one shard's journal",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				if len(args) == 1 {
					return printJournal(ctx, ts, args[0], out)
				}
				base, err := gatewayURL(ctx, ts, *server)
				if err != nil {
					return err
				}
				return httpCopy(ctx, http.MethodGet, base+"/debug/failover?format=text", out)
			})
		},
	}
}

func printJournal(ctx context.Context, ts *topo.Server, ksShard string, out io.Writer) error {
	ks, shard, err := failover.ParseKeyspaceShard(ksShard)
	if err != nil {
		return err
	}
	recs, err := failover.NewJournal(ts).Recoveries(ctx, ks, shard)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintf(out, "%s/%s: no recovery in the journal\n", ks, shard)
		return nil
	}
	fmt.Fprintf(out, "%s/%s: %d recoveries, newest first\n", ks, shard, len(recs))
	for _, r := range recs {
		failover.WriteRecovery(out, r)
	}
	return nil
}

func failoverAckCmd(tf *topoFlags) *cobra.Command {
	var comment string
	cmd := &cobra.Command{
		Use:   "ack KEYSPACE/SHARD",
		Short: "Acknowledge the shard's last recovery, so that failover may recover it again within --failover-block-period",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, shard, err := failover.ParseKeyspaceShard(args[0])
			if err != nil {
				return err
			}
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				by := "unknown"
				if u, err := user.Current(); err == nil {
					by = u.Username
				}
				rec, err := failover.NewJournal(ts).Ack(ctx, ks, shard, by, comment, time.Now())
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(out, "acknowledged recovery %s of %s/%s (%s, %s); failover may recover the shard again\n", rec.ID, ks, shard, rec.Kind, rec.Status)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&comment, "comment", "", "why, for the journal")
	return cmd
}

// newReparentCmd is `vtdirect reparent planned|emergency`.
func newReparentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reparent",
		Short: "Move a shard's primary: planned (the primary is healthy) or emergency (it is not)",
		Long: `The reparent runs in the failover leader (found in the topo, or --server), which holds the
shard's traffic in its buffer meanwhile; its steps print as they go. With no gateway leading
failover, it runs in this process (give --db-dba-user, its password in --db-credentials-file).`,
	}
	tf := addTopoFlags(cmd.PersistentFlags())
	f := &reparentFlags{}
	cmd.PersistentFlags().StringVar(&f.server, "server", "", "a gateway's HTTP address to run it (default: the failover leader's)")
	cmd.PersistentFlags().StringVar(&f.newPrimary, "new-primary", "", "the tablet to promote (default: the best candidate)")
	addDBAFlags(cmd.PersistentFlags(), &f.fo)
	cmd.PersistentFlags().DurationVar(&f.fo.waitReplicas, "wait-replicas-timeout", failover.DefaultWaitReplicasTimeout, "how long to wait for replicas to catch up")
	cmd.PersistentFlags().DurationVar(&f.fo.netTimeout, "replica-net-timeout", failover.DefaultNetTimeout, "slave_net_timeout set on repointed replicas")
	cmd.PersistentFlags().DurationVar(&f.fo.leaseTTL, "lock-ttl", failover.DefaultLeaseTTL, "TTL of the shard lock")
	planned := &cobra.Command{
		Use:   "planned KEYSPACE/SHARD",
		Short: "Planned reparent: the old primary goes read-only, the new one catches up and is promoted, the old one becomes its replica",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReparent(cmd, tf, f, failover.KindPlanned, args[0])
		},
	}
	planned.Flags().StringVar(&f.avoid, "avoid-primary", "", "reparent only if this tablet is the primary, away from it")
	emergency := &cobra.Command{
		Use:   "emergency KEYSPACE/SHARD",
		Short: "Emergency reparent: promote the most advanced replica without the old primary (which is made read-only if it answers)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReparent(cmd, tf, f, failover.KindEmergency, args[0])
		},
	}
	cmd.AddCommand(planned, emergency)
	return cmd
}

type reparentFlags struct {
	server, newPrimary, avoid string
	fo                        failoverFlags
}

func runReparent(cmd *cobra.Command, tf *topoFlags, f *reparentFlags, kind, ksShard string) error {
	ks, shard, err := failover.ParseKeyspaceShard(ksShard)
	if err != nil {
		return err
	}
	return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
		base, err := gatewayURL(ctx, ts, f.server)
		if err == nil {
			q := url.Values{"keyspace": {ks}, "shard": {shard}, "kind": {kind}, "new_primary": {f.newPrimary}, "avoid_primary": {f.avoid}}
			fmt.Fprintf(out, "running the %s reparent of %s/%s in %s\n", kind, ks, shard, base)
			return streamResult(ctx, base+"/debug/failover/reparent?"+q.Encode(), out)
		}
		if f.server != "" {
			return err
		}
		fmt.Fprintf(out, "no gateway leads failover (%v); running the %s reparent of %s/%s in this process\n", err, kind, ks, shard)
		return reparentHere(ctx, ts, f, kind, ks, shard, out)
	})
}

// reparentHere runs a reparent in this process (no buffer: no gateway's traffic is held).
func reparentHere(ctx context.Context, ts *topo.Server, f *reparentFlags, kind, ks, shard string, out io.Writer) error {
	f.fo.poll = failover.DefaultPollInterval
	if _, err := f.fo.useCredentials(); err != nil {
		return err
	}
	cfg, err := f.fo.failoverConfig(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	cfg.ID = fmt.Sprintf("vtdirect reparent/%s/%d", host, os.Getpid())
	rep, err := failover.NewReparenter(cfg, ts, failover.NewAgent(cfg), nil)
	if err != nil {
		return err
	}
	say := func(line string) { fmt.Fprintln(out, time.Now().Format("15:04:05.000"), line) }
	np, err := optionalAliasFlag("--new-primary", f.newPrimary)
	if err != nil {
		return err
	}
	if kind == failover.KindPlanned {
		av, err := optionalAliasFlag("--avoid-primary", f.avoid)
		if err != nil {
			return err
		}
		_, err = rep.Planned(ctx, ks, shard, failover.PlannedOptions{NewPrimary: np, AvoidPrimary: av, Out: say})
		return err
	}
	_, err = rep.Emergency(ctx, ks, shard, failover.EmergencyOptions{Trigger: "operator", NewPrimary: np, Out: say})
	return err
}

func optionalAliasFlag(flag, s string) (*topodatapb.TabletAlias, error) {
	if s == "" {
		return nil, nil
	}
	a, err := topo.ParseTabletAlias(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return a, nil
}

// gatewayURL is --server, else the failover leader's HTTP address from the topo election.
func gatewayURL(ctx context.Context, ts *topo.Server, server string) (string, error) {
	if server != "" {
		if !strings.Contains(server, "://") {
			server = "http://" + server
		}
		return strings.TrimRight(server, "/"), nil
	}
	id, err := ts.Leader(ctx, failover.ElectionName)
	if err != nil {
		return "", fmt.Errorf("find the failover leader: %w", err)
	}
	if id == "" {
		return "", fmt.Errorf("no gateway leads failover (start one with --enable-failover, or give --server)")
	}
	return gateway.LeaderHTTP(id)
}

func httpCopy(ctx context.Context, method, u string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(b)))
	}
	_, err = io.Copy(out, resp.Body)
	return err
}

// streamResult prints the reparent's lines as they come and fails when its result is not a
// success.
func streamResult(ctx context.Context, u string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, strings.TrimSpace(string(b)))
	}
	sc := bufio.NewScanner(resp.Body)
	result := ""
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(out, line)
		if _, r, ok := strings.Cut(line, "result: "); ok {
			result = r
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the reparent's progress: %w", err)
	}
	switch {
	case result == "":
		return fmt.Errorf("the gateway ended the reparent without a result; see `vtdirect failover status`")
	case strings.HasPrefix(result, "success"):
		return nil
	}
	return fmt.Errorf("reparent %s", result)
}
