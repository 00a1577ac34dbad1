package picker

import (
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// InvalidArgumentError reports options the picker cannot use: an unknown
// cell preference, tablet order or tablet type, or a combination that makes
// no sense (a local preference without a local cell). It unwraps to a
// *mysql.MyError with ER_WRONG_ARGUMENTS so that errors.As finds the code a
// client should see.
type InvalidArgumentError struct {
	Field string   // which option: "cell preference", "tablet types", ...
	Value string   // what was given
	Hint  string   // what to do instead
	Valid []string // the accepted values, when the set is closed
}

func invalidArg(field, value, hint string, valid ...string) *InvalidArgumentError {
	return &InvalidArgumentError{Field: field, Value: value, Hint: hint, Valid: valid}
}

func (e *InvalidArgumentError) Error() string {
	var b strings.Builder
	b.WriteString("vtdirect: invalid ")
	b.WriteString(e.Field)
	b.WriteString(" ")
	b.WriteString(strconv.Quote(e.Value))
	if e.Hint != "" {
		b.WriteString(": ")
		b.WriteString(e.Hint)
	}
	if len(e.Valid) > 0 {
		b.WriteString(" (valid: ")
		b.WriteString(strings.Join(e.Valid, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap gives the MySQL error a client sees.
func (e *InvalidArgumentError) Unwrap() error {
	return mysql.NewError(mysql.ER_WRONG_ARGUMENTS, e.Error())
}

// NoTabletError says that no tablet of a shard matched, and why each tablet
// that was considered was turned down. Its text lists every tablet. It
// unwraps to a *mysql.MyError (ER_UNKNOWN_ERROR, HY000, as Vitess answers for
// an unavailable target) and, when the waiting wrapper gave up, to the
// context's error, so errors.Is(err, context.DeadlineExceeded) works.
type NoTabletError struct {
	Explanation *Explanation // the whole decision, rejected tablets included
	Cause       error        // ctx.Err() when a Waiter gave up; nil from Pick
}

func (e *NoTabletError) Error() string {
	x := e.Explanation
	var b strings.Builder
	b.WriteString("vtdirect: no healthy tablet for ")
	b.WriteString(x.Keyspace)
	b.WriteString("/")
	b.WriteString(x.Shard)
	b.WriteString(" (types ")
	b.WriteString(strings.Join(x.TabletTypes, ","))
	if x.PrimaryOnly {
		b.WriteString(", the shard primary in any cell")
	} else {
		b.WriteString(", cells ")
		b.WriteString(x.cellOrder())
	}
	b.WriteString(")")
	switch {
	case x.NoSnapshot:
		b.WriteString(": no tablet health known yet")
	case !x.ShardKnown:
		b.WriteString(": no tablets known for this shard")
	default:
		if x.PrimaryOnly && x.ShardPrimary == "" {
			b.WriteString(": the shard has no primary")
		}
		if len(x.Rejected) == 0 {
			b.WriteString(": no tablets known for this shard")
		} else {
			b.WriteString(": ")
		}
		for i, c := range x.Rejected {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(c.Alias)
			b.WriteString(" ")
			b.WriteString(c.Type)
			b.WriteString(": ")
			b.WriteString(c.Why)
		}
	}
	if len(x.UnknownCells) > 0 {
		b.WriteString("; unknown cells ignored: ")
		b.WriteString(strings.Join(x.UnknownCells, ","))
	}
	if e.Cause != nil {
		b.WriteString("; gave up waiting: ")
		b.WriteString(e.Cause.Error())
	}
	b.WriteString("; check the tablets' health (/debug/picker) or widen the cells")
	return b.String()
}

// Unwrap gives the MySQL error a client sees and the cause, if any.
func (e *NoTabletError) Unwrap() []error {
	my := mysql.NewError(mysql.ER_UNKNOWN_ERROR, e.Error())
	if e.Cause == nil {
		return []error{my}
	}
	return []error{my, e.Cause}
}
