package grpcvtgate

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// TestCodecReusesDirtyBuffers checks that a response marshalled into a reused (not zeroed)
// buffer decodes to the same message, for small and pooled sizes.
func TestCodecReusesDirtyBuffers(t *testing.T) {
	c := Codec()
	for _, size := range []int{10, 5000, 300_000, 70_000, 5000} {
		resp := &vtgatepb.VStreamResponse{Events: []*binlogdatapb.VEvent{{
			Type: binlogdatapb.VEventType_ROW,
			RowEvent: &binlogdatapb.RowEvent{TableName: "ks.t", RowChanges: []*binlogdatapb.RowChange{{
				After: &querypb.Row{Lengths: []int64{int64(size)}, Values: bytes.Repeat([]byte{'x'}, size)}}}},
		}}}
		bs, err := c.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := bs.Len(), resp.SizeVT(); got != want {
			t.Fatalf("size %d: marshalled %d bytes, want %d", size, got, want)
		}
		var back vtgatepb.VStreamResponse
		if err := c.Unmarshal(bs, &back); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&back, resp) {
			t.Fatalf("size %d: the message came back different", size)
		}
		// Dirty the buffer before it goes back, as a reused one would be.
		for _, b := range bs {
			buf := b.ReadOnlyData()
			for i := range buf {
				buf[i] = 0xee
			}
		}
		bs.Free()
	}
}

func TestDirtyPoolClasses(t *testing.T) {
	p := &dirtyPool{}
	for _, tc := range []struct{ n, capacity int }{{1, 4096}, {4096, 4096}, {4097, 8192}, {250_000, 262_144}, {1 << 25, 1 << 25}, {1<<25 + 1, 1<<25 + 1}} {
		b := p.Get(tc.n)
		if len(*b) != tc.n || cap(*b) != tc.capacity {
			t.Errorf("Get(%d): len %d cap %d, want len %d cap %d", tc.n, len(*b), cap(*b), tc.n, tc.capacity)
		}
		p.Put(b)
	}
	foreign := make([]byte, 5000) // not a power of two: never pooled
	p.Put(&foreign)
	if b := p.Get(5000); cap(*b) != 8192 {
		t.Errorf("a foreign buffer was pooled: cap %d", cap(*b))
	}
}
