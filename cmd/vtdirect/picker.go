package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// newPickerCmd is `vtdirect picker explain`: it asks a running gateway (its /debug/picker
// page) how it would choose a tablet, since only the gateway knows the tablets' health.
func newPickerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "picker", Short: "Ask a running gateway how it chooses tablets"}
	var (
		server, keyspace, shard, types, cells, pref, order, exclude, localCell, maxLag, purpose string
		asJSON                                                                                  bool
	)
	explain := &cobra.Command{
		Use:   "explain",
		Short: "Show the ranked candidate tablets of a shard and why the others are rejected",
		Example: `  vtdirect picker explain --keyspace commerce --types REPLICA
  vtdirect picker explain --keyspace commerce --types in_order:RDONLY,REPLICA --cells zone2 --cell-preference OnlySpecified
  vtdirect picker explain --keyspace commerce --types REPLICA --purpose vstream`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			set := func(k, v string) {
				if v != "" {
					q.Set(k, v)
				}
			}
			set("keyspace", keyspace)
			set("shard", shard)
			set("types", types)
			set("cells", cells)
			set("cell_preference", pref)
			set("tablet_order", order)
			set("exclude", exclude)
			set("max_lag", maxLag)
			set("purpose", purpose)
			if cmd.Flags().Changed("local-cell") {
				q.Set("local_cell", localCell)
			}
			if !asJSON {
				q.Set("format", "text")
			}
			u := "http://" + server + "/debug/picker?" + q.Encode()
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, u, nil)
			if err != nil {
				return err
			}
			client := &http.Client{Timeout: 10 * time.Second}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("ask the gateway at %s: %w (is `vtdirect serve` running? its HTTP address is --port; give it with --server)", server, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("gateway says: %s", body)
			}
			_, err = os.Stdout.Write(body)
			return err
		},
	}
	f := explain.Flags()
	f.StringVar(&server, "server", "127.0.0.1:15000", "the gateway's HTTP address (its --port)")
	f.StringVar(&keyspace, "keyspace", "", "keyspace (required)")
	f.StringVar(&shard, "shard", "", "shard (default: the keyspace's only shard)")
	f.StringVar(&types, "types", "", "tablet types, e.g. REPLICA,RDONLY or in_order:REPLICA,PRIMARY (default REPLICA,RDONLY,PRIMARY)")
	f.StringVar(&cells, "cells", "", "cells and cell aliases to consider")
	f.StringVar(&pref, "cell-preference", "", "PreferLocalWithAlias (default), PreferLocal or OnlySpecified")
	f.StringVar(&order, "tablet-order", "", "Any (default) or InOrder")
	f.StringVar(&exclude, "exclude", "", "tablet aliases never to pick")
	f.StringVar(&purpose, "purpose", "", "query (default) or vstream: also turn down tablets whose binlog settings unfit them as VStream sources")
	f.StringVar(&localCell, "local-cell", "", "the caller's cell (default: the gateway's --cell)")
	f.StringVar(&maxLag, "max-lag", "", "replication lag bound (default: the gateway's)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = explain.MarkFlagRequired("keyspace")
	cmd.AddCommand(explain)
	return cmd
}
