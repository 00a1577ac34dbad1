package grpcvtgate

// Vitess's messages carry generated vtprotobuf code (MarshalToSizedBufferVT, UnmarshalVT,
// SizeVT) that is several times cheaper than reflection-based proto marshalling; Vitess's own
// servers and clients use it. This codec uses it when a message has it and falls back to the
// standard proto codec otherwise. It is passed as a server option, not registered globally.
//
// Marshalled messages go into buffers of a pool of the codec's own (dirtyPool) rather than grpc's
// default pool, which zeroes a whole buffer on every Get and rounds a VStream response of
// 250 KB up to a 1 MiB buffer: a burst's responses spent 6% of the gateway's CPU there. The
// generated marshaller writes every byte of the size it computed, so nothing needs zeroing.

import (
	"fmt"
	"math/bits"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	encproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

type vtMessage interface {
	SizeVT() int
	MarshalToSizedBufferVT([]byte) (int, error)
	UnmarshalVT([]byte) error
}

type vtCodec struct {
	fallback encoding.CodecV2
	pool     *dirtyPool
}

// Codec returns the vtprotobuf-aware codec ("proto" on the wire), for servers and clients.
func Codec() encoding.CodecV2 {
	return vtCodec{fallback: encoding.GetCodecV2(encproto.Name), pool: &dirtyPool{}}
}

func (vtCodec) Name() string { return encproto.Name }

func (c vtCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(vtMessage)
	if !ok {
		return c.fallback.Marshal(v)
	}
	n := m.SizeVT()
	if mem.IsBelowBufferPoolingThreshold(n) {
		b := make([]byte, n)
		if _, err := m.MarshalToSizedBufferVT(b); err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	b := c.pool.Get(n)
	if w, err := m.MarshalToSizedBufferVT((*b)[:n]); err != nil || w != n {
		c.pool.Put(b)
		if err == nil {
			err = fmt.Errorf("grpcvtgate: marshalled %d bytes of a %T whose size is %d", w, v, n)
		}
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(b, c.pool)}, nil
}

// dirtyPool is a mem.BufferPool of buffers whose capacity is a power of two from 2^minClass
// to 2^maxClass bytes, handed out as they were returned (not zeroed). Larger buffers are
// not pooled.
type dirtyPool struct {
	classes [maxClass - minClass + 1]sync.Pool
}

const (
	minClass = 12 // 4 KiB
	maxClass = 25 // 32 MiB: a 16 MiB packet and its framing
)

// class is the index of the smallest class holding n bytes, or -1 when n is too large.
func (*dirtyPool) class(n int) int {
	c := max(minClass, bits.Len(uint(n-1)))
	if c > maxClass {
		return -1
	}
	return c - minClass
}

func (p *dirtyPool) Get(n int) *[]byte {
	c := p.class(n)
	if c < 0 {
		b := make([]byte, n)
		return &b
	}
	if b, ok := p.classes[c].Get().(*[]byte); ok {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<(c+minClass))
	return &b
}

func (p *dirtyPool) Put(b *[]byte) {
	n := cap(*b)
	c := p.class(n)
	if c < 0 || 1<<(c+minClass) != n {
		return // not one of ours
	}
	p.classes[c].Put(b)
}

func (c vtCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(vtMessage)
	if !ok {
		return c.fallback.Unmarshal(data, v)
	}
	b := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer b.Free()
	return m.UnmarshalVT(b.ReadOnlyData())
}

var _ encoding.CodecV2 = vtCodec{}

// codecOption makes a server use Codec.
func codecOption() grpc.ServerOption { return grpc.ForceServerCodecV2(Codec()) }
