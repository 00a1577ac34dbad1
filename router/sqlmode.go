package router

import (
	"bytes"
	"strings"

	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/discovery"
)

// How the session's sql_mode makes MariaDB read its statements. The status flags say
// ANSI_QUOTES and NO_BACKSLASH_ESCAPES but not ORACLE (which sets ANSI_QUOTES too, and a
// grammar of its own), so the classifier's Options come from the session's sql_mode itself:
// the backend connections track every session variable (CLIENT_SESSION_TRACK, see
// tabletserver/track.go), so each SET of it, in whatever form (a SET STATEMENT aside, which
// session.State leaves out: it does not outlast its statement), in a multi-statement query,
// in EXECUTE [IMMEDIATE], is in the session's settings after the statement that made it,
// and a SET that tracking did not report is recorded from its literal value or read back
// (session.Outcome.Read); a session that did not set it has the backend connections' base,
// the server's global sql_mode. The value is read whole (classify.OptionsFromSQLMode: ANSI,
// ORACLE... and MariaDB's numeric form), once per change.

// lexOptions are the session's lexing options now.
func lexOptions(s *Session) classify.Options {
	mode, set := s.state.Settings().Get("sql_mode")
	if !set {
		if !s.baseKnown && s.ex != nil {
			s.baseSQLMode, s.baseKnown = s.ex.targetSQLMode(s)
		}
		mode = s.baseSQLMode
	}
	c := &s.lexCache
	if !c.valid || c.mode != mode {
		c.opt, c.ok = classify.OptionsFromSQLMode(classify.Options{}, mode)
		c.unplannable = unplannableMode(mode)
		c.mode, c.valid = mode, true
	}
	if c.ok {
		opt := c.opt
		opt.Charset = s.charset
		return opt
	}
	// A mode name the classifier does not know (a newer server's): the status flags, and
	// ORACLE by name.
	opt := classify.OptionsFromStatus(classify.Options{Charset: s.charset}, s.state.Status())
	opt.Oracle = classify.SQLModeHas(mode, "oracle")
	return opt
}

// lexCache is the reading of the session's last sql_mode value (the per-query path reads
// it once per change).
type lexCache struct {
	mode      string
	opt       classify.Options
	ok, valid bool
	// unplannable is the mode of the value that the sharded planner cannot read, or "".
	unplannable string
}

// unplannableModes are the sql_mode names that make MariaDB read an expression otherwise
// than Vitess's parser, on which the sharded planner is built: PIPES_AS_CONCAT (|| joins
// strings; the parser reads OR), the combination modes that set it (MariaDB reports them
// expanded, a literal value may not be), and HIGH_NOT_PRECEDENCE (NOT a = b is (NOT a) = b).
// ANSI_QUOTES and NO_BACKSLASH_ESCAPES the planner follows (lexMode).
var unplannableModes = [...]string{"pipes_as_concat", "oracle", "ansi", "postgresql", "mssql", "db2", "maxdb", "high_not_precedence"}

// unplannableMode returns the first of unplannableModes that a sql_mode value holds, or "".
func unplannableMode(mode string) string {
	for _, m := range unplannableModes {
		if classify.SQLModeHas(mode, m) {
			return m
		}
	}
	return ""
}

// errUnplannableMode refuses a statement on a sharded keyspace while the session's
// sql_mode has a mode the planner cannot read; "" when it has none. SET (to leave the mode),
// COMMIT and ROLLBACK go, unless a SET has || in it (the planner may write it back as OR).
func errUnplannableMode(s *Session, kind classify.Kind, text []byte) error {
	lexOptions(s) // brings s.lexCache to the session's sql_mode
	m := s.lexCache.unplannable
	if m == "" {
		return nil
	}
	switch kind {
	case classify.KindCommit, classify.KindRollback:
		return nil
	case classify.KindSet:
		if !bytes.Contains(text, []byte("||")) {
			return nil
		}
	}
	return errNotSupported("sql_mode %s on sharded keyspace %s: the sharded planner reads statements as the default sql_mode does "+
		"(|| as OR, NOT before comparisons); set a sql_mode without %s, PIPES_AS_CONCAT, HIGH_NOT_PRECEDENCE and the modes "+
		"that include them (ORACLE, ANSI...), for example SET sql_mode = DEFAULT, and use CONCAT() for strings",
		strings.ToUpper(m), s.target.Keyspace, strings.ToUpper(m))
}

// targetSQLMode is the sql_mode of the session's target's backend connections before the
// session sets one: the global value of the target's server, as its tablets' probes read it
// (servers may differ: a gateway's first tablet's value would make the classifier read
// "db"."t" as two strings where the target's server, with ANSI_QUOTES, reads a table of
// another database). The primary's first, then its shard's other tablets' (a keyspace's
// first shard's for a sharded keyspace without a shard: its shards are taken to agree).
// known is false before any probe of them read it: the mode is then any server's, or "".
func (e *Executor) targetSQLMode(s *Session) (mode string, known bool) {
	snap := e.reg.Snapshot()
	t := s.target
	if !s.hasTarget {
		if len(snap.Keyspaces) == 0 {
			return "", false
		}
		t = Target{Keyspace: snap.Keyspaces[0]}
	}
	shards := snap.Shards(t.Keyspace)
	if t.Shard != "" {
		shards = nil
		if sh := snap.Shard(t.Keyspace, t.Shard); sh != nil {
			shards = []*discovery.Shard{sh}
		}
	}
	for _, sh := range shards {
		if sh.Primary != nil {
			if info, ok := sh.Primary.Server.Info(); ok {
				return info.SQLMode, true
			}
		}
		for _, tab := range sh.Tablets {
			if info, ok := tab.Server.Info(); ok {
				return info.SQLMode, true
			}
		}
	}
	info, _ := e.anyInfo()
	return info.SQLMode, false
}

// baseLexOptions are the lexing options of a backend connection of s's target in its base
// state (a gRPC Execute runs there): its server's global sql_mode.
func (e *Executor) baseLexOptions(s *Session) classify.Options {
	mode, _ := e.targetSQLMode(s)
	if opt, ok := classify.OptionsFromSQLMode(classify.Options{}, mode); ok {
		return opt
	}
	return classify.Options{AnsiQuotes: classify.SQLModeHas(mode, "ansi_quotes"), NoBackslashEscapes: classify.SQLModeHas(mode, "no_backslash_escapes"),
		Oracle: classify.SQLModeHas(mode, "oracle")}
}
