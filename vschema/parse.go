package vschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	vschemapb "vitess.io/vitess/go/vt/proto/vschema"
)

// Parse decodes a keyspace's vschema from Vitess's JSON form (what `vtctldclient
// ApplyVSchema --vschema-file` reads). Unknown fields are errors naming them, so a typo is not
// silently ignored.
func Parse(data []byte) (*vschemapb.Keyspace, error) {
	ks := &vschemapb.Keyspace{}
	if strings.TrimSpace(string(data)) == "" {
		return nil, fmt.Errorf("vschema JSON is empty; want an object such as {\"sharded\": true, \"vindexes\": {...}, \"tables\": {...}}")
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(data, ks); err != nil {
		msg := strings.TrimPrefix(err.Error(), "proto:")
		msg = strings.ReplaceAll(msg, "\u00a0", " ") // protojson's errors carry no-break spaces
		return nil, fmt.Errorf("vschema JSON: %s (fields are Vitess's vschema.Keyspace: sharded, vindexes, tables, require_explicit_routing...)", strings.TrimSpace(msg))
	}
	return ks, nil
}

// Format encodes a vschema as indented JSON, in Vitess's form (protojson's output, whose
// spacing protojson varies on purpose, made stable).
func Format(ks *vschemapb.Keyspace) ([]byte, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(ks)
	if err != nil {
		return nil, err
	}
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return nil, err
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
