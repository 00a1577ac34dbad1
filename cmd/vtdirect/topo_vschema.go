package main

// `vtdirect topo apply-vschema` and `get-vschema`: a keyspace's vschema in Vitess's JSON form,
// checked (package vschema) before it is written at Vitess's key (keyspaces/<ks>/VSchema).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	vschemapb "vitess.io/vitess/go/vt/proto/vschema"

	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/vschema"
)

func applyVSchemaCmd(tf *topoFlags) *cobra.Command {
	var inline string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply-vschema KEYSPACE [FILE.json]",
		Short: "Check a keyspace's vschema (Vitess's JSON form) and write it to the topo",
		Long: `Check a keyspace's vschema and write it to the topo, where every gateway sees it within a moment.
The file is Vitess's JSON form (what vtctldclient ApplyVSchema reads); "-" reads standard input.
The check names the table, vindex and field of any problem, and resolves what the vschema names
in other keyspaces (sequences, reference sources, lookup tables) against their vschemas.

  vtdirect topo apply-vschema customer customer_vschema.json
  vtdirect topo apply-vschema commerce --vschema '{"tables": {"customer_seq": {"type": "sequence"}}}'`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks := args[0]
			data, err := vschemaInput(cmd, args, inline)
			if err != nil {
				return err
			}
			pb, err := vschema.Parse(data)
			if err != nil {
				return err
			}
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				others, err := otherVSchemas(ctx, ts, ks)
				if err != nil {
					return err
				}
				if err := vschema.Check(ks, pb, others); err != nil {
					return fmt.Errorf("%w; nothing was written", err)
				}
				if dryRun {
					_, err := fmt.Fprintf(out, "vschema of keyspace %s is valid (dry run: not written)\n", ks)
					return err
				}
				if err := ts.SaveVSchema(ctx, ks, pb); err != nil {
					return err
				}
				_, err = fmt.Fprintf(out, "applied the vschema of keyspace %s (%d vindexes, %d tables, sharded: %v)\n", ks, len(pb.Vindexes), len(pb.Tables), pb.Sharded)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&inline, "vschema", "", "the vschema as a JSON string, instead of a file")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check only; write nothing")
	return cmd
}

func vschemaInput(cmd *cobra.Command, args []string, inline string) ([]byte, error) {
	switch {
	case inline != "" && len(args) == 2:
		return nil, errors.New("give the vschema as a file or with --vschema, not both")
	case inline != "":
		return []byte(inline), nil
	case len(args) < 2:
		return nil, errors.New("give the vschema file (or - for standard input), or --vschema '{...}'")
	case args[1] == "-":
		return io.ReadAll(cmd.InOrStdin())
	}
	data, err := os.ReadFile(args[1])
	if err != nil {
		return nil, fmt.Errorf("read the vschema: %w", err)
	}
	return data, nil
}

// otherVSchemas reads the vschemas of every keyspace but one.
func otherVSchemas(ctx context.Context, ts *topo.Server, except string) (map[string]*vschemapb.Keyspace, error) {
	names, err := ts.ListKeyspaces(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]*vschemapb.Keyspace{}
	for _, n := range names {
		if n == except {
			continue
		}
		vs, err := ts.GetVSchema(ctx, n)
		switch {
		case topo.IsNoNode(err):
			continue
		case err != nil:
			return nil, err
		}
		out[n] = vs
	}
	return out, nil
}

func getVSchemaCmd(tf *topoFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get-vschema KEYSPACE",
		Short: "Print a keyspace's vschema in Vitess's JSON form",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				vs, err := ts.GetVSchema(ctx, args[0])
				if topo.IsNoNode(err) {
					return fmt.Errorf("keyspace %s has no vschema; write one with `vtdirect topo apply-vschema %s FILE.json`", args[0], args[0])
				}
				if err != nil {
					return err
				}
				b, err := vschema.Format(vs)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(out, "%s\n", b)
				return err
			})
		},
	}
}
