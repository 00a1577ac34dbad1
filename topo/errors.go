package topo

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error a Conn or the Server returns for one of these conditions wraps
// the sentinel in a *KeyError naming the key, so callers test with errors.Is and users read
// which record is at fault.
var (
	// ErrNoNode: the key (or, for ListDir, the directory) does not exist.
	ErrNoNode = errors.New("node does not exist")
	// ErrNodeExists: Create found the key already there.
	ErrNodeExists = errors.New("node already exists")
	// ErrBadVersion: a conditional Update or Delete saw another version (someone else wrote).
	ErrBadVersion = errors.New("node version mismatch (changed by someone else)")
	// ErrCorrupt: the bytes under the key do not decode as the expected record.
	ErrCorrupt = errors.New("corrupt record")
	// ErrClosed: the Conn or Server was closed.
	ErrClosed = errors.New("topo connection closed")
	// ErrInvalid: a name, alias or argument is not acceptable.
	ErrInvalid = errors.New("invalid argument")
)

// KeyError is an error about one key of the topo. Key is the full key (with the Conn's root)
// for Conn errors; Server errors prefix it with where it lives ("global" or "cell zone1").
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return fmt.Sprintf("topo: %s: %v", e.Key, e.Err) }

func (e *KeyError) Unwrap() error { return e.Err }

// keyError builds a *KeyError.
func keyError(key string, err error) error { return &KeyError{Key: key, Err: err} }

// IsNoNode reports whether err says a key does not exist.
func IsNoNode(err error) bool { return errors.Is(err, ErrNoNode) }
