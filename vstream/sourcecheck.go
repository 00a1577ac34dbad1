package vstream

// Source checks: before a shard stream reads a tablet's binlog it checks the settings a change
// stream depends on (package flavor names them per server family). A tablet that fails is not
// used: the stream picks another, and fails with FAILED_PRECONDITION naming the settings when
// no tablet fits. A gateway's SourcePicker runs the same check (CheckSourceSettings) to keep
// unfit tablets out of its picks and to say why in the picker's explanation.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/vtdirect/vtdirect/flavor"
)

// SourceCheck is the outcome of checking one server's settings.
type SourceCheck struct {
	Flavor   flavor.Flavor
	Settings flavor.SourceSettings
	Problems []flavor.SourceProblem
}

// Fit reports whether the server may be streamed from.
func (c SourceCheck) Fit() bool { return len(c.Problems) == 0 }

// Reason describes the problems in one line, with how to fix each.
func (c SourceCheck) Reason() string {
	var parts []string
	for _, p := range c.Problems {
		parts = append(parts, p.String()+"; fix: "+c.Flavor.FixHint(p))
	}
	return strings.Join(parts, "; ")
}

// CheckSourceSettings reads the settings of the server behind db and lists its problems as a
// change-stream source. allowNoBlob accepts binlog_row_image=NOBLOB.
func CheckSourceSettings(ctx context.Context, db *sql.DB, allowNoBlob bool) (SourceCheck, error) {
	var version string
	if err := db.QueryRowContext(ctx, "SELECT @@version").Scan(&version); err != nil {
		return SourceCheck{}, err
	}
	f := flavor.Detect(version)
	vals := make([]sql.NullString, 7)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := db.QueryRowContext(ctx, f.SourceSettingsQuery()).Scan(ptrs...); err != nil {
		return SourceCheck{}, fmt.Errorf("read binlog settings: %w", err)
	}
	replica, err := hasReplicaStatus(ctx, db, f)
	if err != nil {
		return SourceCheck{}, err
	}
	text := make([]string, len(vals))
	for i, v := range vals {
		text[i] = v.String
	}
	st, err := f.ParseSourceSettings(text, replica)
	if err != nil {
		return SourceCheck{}, err
	}
	return SourceCheck{Flavor: f, Settings: st, Problems: f.SourceProblems(st, allowNoBlob)}, nil
}

// hasReplicaStatus reports whether the server replicates (its replica status has a row).
func hasReplicaStatus(ctx context.Context, db *sql.DB, f flavor.Flavor) (bool, error) {
	rows, err := db.QueryContext(ctx, f.ReplicaStatusQuery())
	if err != nil {
		return false, fmt.Errorf("read replica status: %w", err)
	}
	defer rows.Close()
	has := rows.Next()
	return has, rows.Err()
}

// errUnfit is a source whose settings make it unfit: another tablet may fit.
type errUnfit struct {
	alias  string
	reason string
}

func (e *errUnfit) Error() string {
	return fmt.Sprintf("tablet %s is not fit as a VStream source: %s", e.alias, e.reason)
}

// errPositionGone is a source that cannot serve the position (purged, or from another history).
type errPositionGone struct {
	alias string
	err   error
}

func (e *errPositionGone) Error() string {
	return fmt.Sprintf("tablet %s cannot serve the position: %v", e.alias, e.err)
}
func (e *errPositionGone) Unwrap() error { return e.err }

// isPositionGone reports whether err says the source does not have the position.
func isPositionGone(err error) bool { return errors.Is(err, errPositionUnavailable) }
