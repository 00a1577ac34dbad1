package grpcvtgate

// Vitess's messages carry generated vtprotobuf code (MarshalToSizedBufferVT, UnmarshalVT,
// SizeVT) that is several times cheaper than reflection-based proto marshalling; Vitess's own
// servers and clients use it. This codec uses it when a message has it and falls back to the
// standard proto codec otherwise. It is passed as a server option, not registered globally.

import (
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

type vtCodec struct{ fallback encoding.CodecV2 }

// Codec returns the vtprotobuf-aware codec ("proto" on the wire), for servers and clients.
func Codec() encoding.CodecV2 { return vtCodec{fallback: encoding.GetCodecV2(encproto.Name)} }

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
	pool := mem.DefaultBufferPool()
	b := pool.Get(n)
	if _, err := m.MarshalToSizedBufferVT((*b)[:n]); err != nil {
		pool.Put(b)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(b, pool)}, nil
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
