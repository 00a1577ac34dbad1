package topo

import (
	"context"
	"errors"
	"fmt"
	"path"
)

// vtMessage is a Vitess protobuf message with its generated fast codec (vtprotobuf).
type vtMessage[T any] interface {
	*T
	MarshalVT() ([]byte, error)
	UnmarshalVT([]byte) error
}

// rooted is implemented by the Conns of this module, to name full keys in errors.
type rooted interface{ Root() string }

// fullKey names a record for an error message: the backend key when the Conn tells its root.
func fullKey(conn Conn, p string) string {
	if r, ok := conn.(rooted); ok {
		return path.Join(r.Root(), p)
	}
	return p
}

// decode unmarshals data read at p. A decoding failure is ErrCorrupt naming the key, so a
// damaged record is never mistaken for an empty one.
func decode[T any, P vtMessage[T]](conn Conn, p string, data []byte) (P, error) {
	m := P(new(T))
	if err := m.UnmarshalVT(data); err != nil {
		return nil, keyError(fullKey(conn, p), fmt.Errorf("%w: cannot decode %T (%d bytes): %v; rewrite or delete this key", ErrCorrupt, m, len(data), err))
	}
	return m, nil
}

// getRecord reads and decodes the record at p.
func getRecord[T any, P vtMessage[T]](ctx context.Context, conn Conn, p string) (P, Version, error) {
	data, v, err := conn.Get(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	m, err := decode[T, P](conn, p, data)
	if err != nil {
		return nil, nil, err
	}
	return m, v, nil
}

// createRecord encodes m and creates it at p (ErrNodeExists if present).
func createRecord[T any, P vtMessage[T]](ctx context.Context, conn Conn, p string, m P) error {
	data, err := m.MarshalVT()
	if err != nil {
		return keyError(fullKey(conn, p), fmt.Errorf("encode %T: %w", m, err))
	}
	_, err = conn.Create(ctx, p, data)
	return err
}

// errNoUpdate, returned by an update func, means "nothing to write".
var errNoUpdate = errors.New("no update needed")

// maxUpdateAttempts bounds the read-modify-write loop of updateRecord; each failed attempt
// means another writer changed the record in between, so this many in a row is pathological.
const maxUpdateAttempts = 32

// updateRecord reads the record at p, applies update and writes it back if the version did
// not change meanwhile, retrying on a concurrent write. With createMissing a missing record
// starts empty and is created; otherwise ErrNoNode is returned. It returns the record as
// written (or as read, if update returned errNoUpdate).
func updateRecord[T any, P vtMessage[T]](ctx context.Context, conn Conn, p string, createMissing bool, update func(P) error) (P, error) {
	for range maxUpdateAttempts {
		m, v, err := getRecord[T, P](ctx, conn, p)
		switch {
		case err == nil:
		case createMissing && errors.Is(err, ErrNoNode):
			m, v = P(new(T)), nil
		default:
			return nil, err
		}
		if err := update(m); err != nil {
			if errors.Is(err, errNoUpdate) {
				return m, nil
			}
			return nil, err
		}
		data, err := m.MarshalVT()
		if err != nil {
			return nil, keyError(fullKey(conn, p), fmt.Errorf("encode %T: %w", m, err))
		}
		if v == nil {
			_, err = conn.Create(ctx, p, data)
		} else {
			_, err = conn.Update(ctx, p, data, v)
		}
		switch {
		case err == nil:
			return m, nil
		case errors.Is(err, ErrBadVersion), errors.Is(err, ErrNodeExists), v != nil && errors.Is(err, ErrNoNode):
			continue // someone else wrote (or deleted) it: read again
		default:
			return nil, err
		}
	}
	return nil, keyError(fullKey(conn, p), fmt.Errorf("%w: still changing after %d attempts; retry later", ErrBadVersion, maxUpdateAttempts))
}
