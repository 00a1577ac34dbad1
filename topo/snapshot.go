package topo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Topology is a point-in-time dump of everything vtdirect keeps in the topo, for
// `vtdirect topo show`. Records that cannot be read are listed in Problems (with the key)
// instead of failing the whole dump.
type Topology struct {
	Root         string             `json:"root"` // the global root read
	Cells        []CellTopology     `json:"cells"`
	CellsAliases []CellsAliasRecord `json:"cells_aliases"`
	Keyspaces    []KeyspaceTopology `json:"keyspaces"`
	Problems     []string           `json:"problems,omitempty"`
}

// CellTopology is a cell and the tablets in its topo.
type CellTopology struct {
	Name    string               `json:"name"`
	Info    *topodatapb.CellInfo `json:"info"`
	Tablets []*topodatapb.Tablet `json:"tablets"`
}

// CellsAliasRecord is a named group of cells.
type CellsAliasRecord struct {
	Name  string                 `json:"name"`
	Alias *topodatapb.CellsAlias `json:"alias"`
}

// KeyspaceTopology is a keyspace and its shards.
type KeyspaceTopology struct {
	Name     string               `json:"name"`
	Keyspace *topodatapb.Keyspace `json:"keyspace"`
	Shards   []ShardTopology      `json:"shards"`
}

// ShardTopology is a shard record.
type ShardTopology struct {
	Name  string            `json:"name"`
	Shard *topodatapb.Shard `json:"shard"`
}

// Snapshot reads the whole topology. Only a failure to list the global topo is an error;
// unreadable records and unreachable cells go to Problems.
func (s *Server) Snapshot(ctx context.Context) (*Topology, error) {
	topo := Topology{Root: fullKey(s.global, "")}
	problem := func(err error) { topo.Problems = append(topo.Problems, err.Error()) }

	cells, err := s.ListCells(ctx)
	if err != nil {
		return nil, err
	}
	for _, cell := range cells {
		ct := CellTopology{Name: cell}
		if ct.Info, err = s.GetCellInfo(ctx, cell); err != nil {
			problem(err)
		} else if ct.Tablets, err = s.ListTablets(ctx, cell); err != nil {
			problem(fmt.Errorf("tablets of cell %s: %w", cell, err))
		}
		topo.Cells = append(topo.Cells, ct)
	}

	aliases, err := s.ListCellsAliases(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range aliases {
		ca, err := s.GetCellsAlias(ctx, name)
		if err != nil {
			problem(err)
			continue
		}
		topo.CellsAliases = append(topo.CellsAliases, CellsAliasRecord{Name: name, Alias: ca})
	}

	keyspaces, err := s.ListKeyspaces(ctx)
	if err != nil {
		return nil, err
	}
	for _, ks := range keyspaces {
		kt := KeyspaceTopology{Name: ks}
		if kt.Keyspace, err = s.GetKeyspace(ctx, ks); err != nil {
			problem(err)
		}
		shards, err := s.ListShards(ctx, ks)
		if err != nil {
			problem(err)
		}
		for _, sh := range shards {
			si, err := s.GetShard(ctx, ks, sh)
			if err != nil {
				problem(err)
			}
			kt.Shards = append(kt.Shards, ShardTopology{Name: sh, Shard: si})
		}
		topo.Keyspaces = append(topo.Keyspaces, kt)
	}
	return &topo, nil
}

// MarshalJSON writes the records with protojson (enum names, lowerCamel fields) inside the
// Topology's own structure.
func (t *Topology) MarshalJSON() ([]byte, error) {
	type cell struct {
		Name    string            `json:"name"`
		Info    json.RawMessage   `json:"info"`
		Tablets []json.RawMessage `json:"tablets"`
	}
	type named struct {
		Name   string          `json:"name"`
		Record json.RawMessage `json:"record"`
	}
	type keyspace struct {
		Name     string          `json:"name"`
		Keyspace json.RawMessage `json:"keyspace"`
		Shards   []named         `json:"shards"`
	}
	out := struct {
		Root         string     `json:"root"`
		Cells        []cell     `json:"cells"`
		CellsAliases []named    `json:"cells_aliases"`
		Keyspaces    []keyspace `json:"keyspaces"`
		Problems     []string   `json:"problems,omitempty"`
	}{Root: t.Root, Cells: []cell{}, CellsAliases: []named{}, Keyspaces: []keyspace{}, Problems: t.Problems}
	for _, c := range t.Cells {
		oc := cell{Name: c.Name, Info: pbJSON(c.Info), Tablets: []json.RawMessage{}}
		for _, tb := range c.Tablets {
			oc.Tablets = append(oc.Tablets, pbJSON(tb))
		}
		out.Cells = append(out.Cells, oc)
	}
	for _, a := range t.CellsAliases {
		out.CellsAliases = append(out.CellsAliases, named{Name: a.Name, Record: pbJSON(a.Alias)})
	}
	for _, k := range t.Keyspaces {
		ok := keyspace{Name: k.Name, Keyspace: pbJSON(k.Keyspace), Shards: []named{}}
		for _, s := range k.Shards {
			ok.Shards = append(ok.Shards, named{Name: s.Name, Record: pbJSON(s.Shard)})
		}
		out.Keyspaces = append(out.Keyspaces, ok)
	}
	return json.Marshal(out)
}

// pbJSON encodes a message with protojson; a nil message (unreadable record) is null.
func pbJSON[M proto.Message](m M) json.RawMessage {
	if !m.ProtoReflect().IsValid() {
		return json.RawMessage("null")
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// WriteTree writes a readable tree: cells, aliases, then keyspace → shard → tablets (from
// every cell), then tablets whose shard is unknown, then problems.
func (t *Topology) WriteTree(w io.Writer) error {
	var b strings.Builder
	if len(t.Cells) == 0 && len(t.Keyspaces) == 0 && len(t.CellsAliases) == 0 {
		fmt.Fprintf(&b, "the global topo at %s is empty: if the topology exists, check --topo-addr and --topo-root\n", t.Root)
	}
	b.WriteString("cells:\n")
	if len(t.Cells) == 0 {
		b.WriteString("  (none; add one with `vtdirect topo add-cell NAME`)\n")
	}
	byShard := make(map[string][]*topodatapb.Tablet)
	for _, c := range t.Cells {
		if c.Info != nil {
			fmt.Fprintf(&b, "  %s  server %s  root %s  (%d tablets)\n", c.Name, c.Info.ServerAddress, c.Info.Root, len(c.Tablets))
		} else {
			fmt.Fprintf(&b, "  %s  (unreadable, see problems)\n", c.Name)
		}
		for _, tb := range c.Tablets {
			k := tb.Keyspace + "/" + tb.Shard
			byShard[k] = append(byShard[k], tb)
		}
	}
	if len(t.CellsAliases) > 0 {
		b.WriteString("cell aliases:\n")
		for _, a := range t.CellsAliases {
			fmt.Fprintf(&b, "  %s: %s\n", a.Name, strings.Join(a.Alias.GetCells(), ", "))
		}
	}
	b.WriteString("keyspaces:\n")
	if len(t.Keyspaces) == 0 {
		b.WriteString("  (none; add one with `vtdirect topo add-keyspace NAME`)\n")
	}
	for _, k := range t.Keyspaces {
		fmt.Fprintf(&b, "  %s\n", k.Name)
		if len(k.Shards) == 0 {
			b.WriteString("    (no shards; add one with `vtdirect topo add-shard KEYSPACE/SHARD`)\n")
		}
		for _, s := range k.Shards {
			key := k.Name + "/" + s.Name
			fmt.Fprintf(&b, "    shard %s%s\n", s.Name, shardSummary(s.Shard))
			for _, tb := range byShard[key] {
				writeTablet(&b, "      ", tb, false)
			}
			delete(byShard, key)
		}
	}
	if len(byShard) > 0 {
		b.WriteString("tablets of unknown shards:\n")
		for _, c := range t.Cells {
			for _, tb := range c.Tablets {
				if _, ok := byShard[tb.Keyspace+"/"+tb.Shard]; ok {
					writeTablet(&b, "  ", tb, true)
				}
			}
		}
	}
	if len(t.Problems) > 0 {
		b.WriteString("problems:\n")
		for _, p := range t.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func shardSummary(s *topodatapb.Shard) string {
	if s == nil {
		return "  (unreadable, see problems)"
	}
	var parts []string
	if s.PrimaryAlias != nil {
		parts = append(parts, "primary "+TabletAliasString(s.PrimaryAlias))
	} else {
		parts = append(parts, "no primary")
	}
	if s.IsPrimaryServing {
		parts = append(parts, "serving")
	}
	return "  (" + strings.Join(parts, ", ") + ")"
}

func writeTablet(b *strings.Builder, indent string, tb *topodatapb.Tablet, withShard bool) {
	port := tb.MysqlPort
	if port == 0 {
		port = tb.PortMap["mysql"]
	}
	fmt.Fprintf(b, "%s%s  %-7s  %s:%d", indent, TabletAliasString(tb.Alias), tb.Type, mysqlHost(tb), port)
	if tb.DbNameOverride != "" {
		fmt.Fprintf(b, "  db %s", tb.DbNameOverride)
	}
	if withShard {
		fmt.Fprintf(b, "  %s/%s", tb.Keyspace, tb.Shard)
	}
	b.WriteString("\n")
}

func mysqlHost(tb *topodatapb.Tablet) string {
	if tb.MysqlHostname != "" {
		return tb.MysqlHostname
	}
	return tb.Hostname
}
