// Command vtdirect is the vtdirect gateway and its tools: `serve` runs the gateway, `local`
// starts a demo cluster on this machine, `topo` edits and shows the topology.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "vtdirect",
		Short:         "A MySQL gateway that sends queries straight to MySQL/MariaDB tablets",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Vitess's flags were once spelled with underscores: accept both spellings.
	root.SetGlobalNormalizationFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
	})
	root.AddCommand(newServeCmd(), newLocalCmd(), newTopoCmd(), newPickerCmd(), newFailoverCmd(), newReparentCmd(), newConfigCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "vtdirect: %v\n", err)
		os.Exit(1)
	}
}
