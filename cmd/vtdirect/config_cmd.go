package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vtdirect/vtdirect/config"
)

// newConfigCmd is `vtdirect config check|reload`.
func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check a configuration file, or make a running gateway reload its own",
	}
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Read a configuration file as `serve --config` would, and print what it sets (secrets shown by their source only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := config.Load(args[0], os.LookupEnv)
			if err != nil {
				return err
			}
			f := &serveFlags{configPath: args[0]}
			fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			defineServeFlags(fs, f)
			if err := f.applyFile(fs, file); err != nil {
				return err
			}
			if _, err := keyspacePickers(file); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s is valid: %d servers, %d keyspaces, %d tablets, %d users configured\n",
				args[0], len(file.Servers), len(file.Keyspaces), len(file.Tablets), len(file.Users))
			applied, _ := config.Diff(&config.File{}, file)
			for _, a := range applied {
				fmt.Fprintf(out, "  %s\n", a)
			}
			_, restart := config.Diff(&config.File{}, file)
			for _, r := range restart {
				fmt.Fprintf(out, "  %s\n", strings.TrimSuffix(r, " (needs a restart)"))
			}
			return nil
		},
	}
	var server string
	reload := &cobra.Command{
		Use:   "reload",
		Short: "Make a running gateway re-read its configuration file (as SIGHUP does) and print what it applied and what needs a restart",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url := strings.TrimSuffix(server, "/")
			if !strings.Contains(url, "://") {
				url = "http://" + url
			}
			client := &http.Client{Timeout: time.Minute}
			resp, err := client.Post(url+"/debug/config/reload", "text/plain", nil)
			if err != nil {
				return fmt.Errorf("reach the gateway at %s (give its HTTP address with --server): %w", url, err)
			}
			defer resp.Body.Close()
			var res struct {
				Applied    []string `json:"applied"`
				NotApplied []string `json:"not_applied"`
				Error      string   `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
				return fmt.Errorf("the gateway at %s answered %s, not a reload result: %w", url, resp.Status, err)
			}
			if res.Error != "" {
				return fmt.Errorf("reload refused, the running configuration stays: %s", res.Error)
			}
			out := cmd.OutOrStdout()
			if len(res.Applied) == 0 && len(res.NotApplied) == 0 {
				fmt.Fprintln(out, "reloaded: nothing changed")
			}
			for _, a := range res.Applied {
				fmt.Fprintf(out, "applied: %s\n", a)
			}
			for _, n := range res.NotApplied {
				fmt.Fprintf(out, "not applied: %s\n", n)
			}
			return nil
		},
	}
	reload.Flags().StringVar(&server, "server", "127.0.0.1:15000", "the gateway's HTTP address (its --port)")
	cmd.AddCommand(check, reload)
	return cmd
}
