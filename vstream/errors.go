package vstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
	vtrpcpb "vitess.io/vitess/go/vt/proto/vtrpc"
)

// Error ends a stream with a code a gRPC face turns into a status (vtrpc codes are gRPC codes).
type Error struct {
	Code vtrpcpb.Code
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func invalidArg(format string, a ...any) error {
	return &Error{Code: vtrpcpb.Code_INVALID_ARGUMENT, Err: fmt.Errorf("vtdirect: "+format, a...)}
}

// CodeOf returns the code of err: Error's own, InvalidArgument for filter errors, Canceled /
// DeadlineExceeded for context errors, else Unavailable.
func CodeOf(err error) vtrpcpb.Code {
	var e *Error
	var fe *FilterError
	switch {
	case errors.As(err, &e):
		return e.Code
	case errors.As(err, &fe):
		return vtrpcpb.Code_INVALID_ARGUMENT
	case errors.Is(err, context.Canceled):
		return vtrpcpb.Code_CANCELED
	case errors.Is(err, context.DeadlineExceeded):
		return vtrpcpb.Code_DEADLINE_EXCEEDED
	}
	return vtrpcpb.Code_UNAVAILABLE
}

// errPositionUnavailable marks a source that cannot serve the requested position (purged or
// not yet reached binlogs): another tablet may.
var errPositionUnavailable = errors.New("position not available on this source")

// classifyMySQL wraps MySQL errors meaning "this source cannot serve the position".
func classifyMySQL(err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) && me.Code == mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG {
		return fmt.Errorf("%w: %w", errPositionUnavailable, err)
	}
	return err
}
