package vstream

// binlogdata.Filter rules, as Vitess's vstreamer reads them
// (vitess.io/vitess/go/vt/vttablet/tabletserver/vstreamer/planbuilder.go):
//   Match "t"           with Filter ""                      : every column of table t
//   Match "/regex"      with Filter "" or a key range        : every table whose name matches
//   Match "t"           with Filter "select a, b as x from t [where in_keyrange(...)]"
// The first rule that matches a table wins. Key ranges and in_keyrange are accepted only when
// they cover the whole shard (vtdirect streams unsharded or whole shards); anything else is an
// InvalidArgument error naming the rule.

import (
	"fmt"
	"regexp"
	"strings"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
)

// FilterError is a filter rule vtdirect cannot serve. gRPC maps it to InvalidArgument.
type FilterError struct {
	Rule   string
	Reason string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("vtdirect: unsupported filter rule %s: %s", e.Rule, e.Reason)
}

// rule is one parsed filter rule.
type rule struct {
	table string         // exact table name, or
	re    *regexp.Regexp // a regular expression on the table name
	cols  []projection   // nil = every column
}

// projection is one selected column: source name and output name.
type projection struct{ name, as string }

// filter is a parsed binlogdata.Filter.
type filter struct{ rules []rule }

// parseFilter validates f for shard (its key range name, "0", "-", "-80"...).
func parseFilter(f *binlogdatapb.Filter, shard string) (*filter, error) {
	out := &filter{}
	if f == nil || len(f.Rules) == 0 {
		re := regexp.MustCompile(".*")
		out.rules = append(out.rules, rule{re: re})
		return out, nil
	}
	for _, r := range f.Rules {
		desc := fmt.Sprintf("{match: %q, filter: %q}", r.Match, r.Filter)
		var pr rule
		if strings.HasPrefix(r.Match, "/") {
			re, err := regexp.Compile(r.Match[1:])
			if err != nil {
				return nil, &FilterError{Rule: desc, Reason: "bad regular expression: " + err.Error()}
			}
			pr.re = re
		} else {
			if r.Match == "" {
				return nil, &FilterError{Rule: desc, Reason: "empty match"}
			}
			pr.table = r.Match
		}
		flt := strings.TrimSpace(r.Filter)
		switch {
		case flt == "":
		case strings.HasPrefix(strings.ToLower(flt), "select"):
			if pr.re != nil {
				return nil, &FilterError{Rule: desc, Reason: "a select filter needs an exact table name in match"}
			}
			cols, from, err := parseSelect(flt, shard)
			if err != nil {
				return nil, &FilterError{Rule: desc, Reason: err.Error()}
			}
			if !strings.EqualFold(from, pr.table) {
				return nil, &FilterError{Rule: desc, Reason: fmt.Sprintf("select reads table %q but match names %q", from, pr.table)}
			}
			pr.cols = cols
		default:
			if !coversShard(flt, shard) {
				return nil, &FilterError{Rule: desc, Reason: fmt.Sprintf("key range %q does not cover shard %q (vtdirect streams whole shards)", flt, shard)}
			}
		}
		out.rules = append(out.rules, pr)
	}
	return out, nil
}

// match returns the rule for table, or nil when the table is not streamed.
func (f *filter) match(table string) *rule {
	for i := range f.rules {
		r := &f.rules[i]
		if r.table != "" {
			if r.table == table {
				return r
			}
			continue
		}
		if r.re.MatchString(table) {
			return r
		}
	}
	return nil
}

// coversShard reports whether key range kr ("-", "", "-80", "80-") covers shard.
func coversShard(kr, shard string) bool {
	kr = strings.TrimSpace(kr)
	return kr == "-" || kr == "" || kr == shard || (shard == "0" && kr == "-") || (shard == "-" && kr == "0")
}

// parseSelect parses "select a, b as x, * from t [where in_keyrange(...)]".
func parseSelect(q, shard string) ([]projection, string, error) {
	toks, err := tokenize(q)
	if err != nil {
		return nil, "", err
	}
	i := 0
	next := func() string {
		if i < len(toks) {
			i++
			return toks[i-1]
		}
		return ""
	}
	peek := func() string {
		if i < len(toks) {
			return toks[i]
		}
		return ""
	}
	if !strings.EqualFold(next(), "select") {
		return nil, "", fmt.Errorf("want select")
	}
	var cols []projection
	star := false
	for {
		t := next()
		switch {
		case t == "*":
			star = true
		case isIdent(t):
			p := projection{name: unquote(t), as: unquote(t)}
			if strings.EqualFold(peek(), "as") {
				next()
				a := next()
				if !isIdent(a) {
					return nil, "", fmt.Errorf("want an alias after AS, got %q", a)
				}
				p.as = unquote(a)
			}
			cols = append(cols, p)
		default:
			return nil, "", fmt.Errorf("only plain columns and * can be selected, got %q", t)
		}
		if peek() != "," {
			break
		}
		next()
	}
	if !strings.EqualFold(next(), "from") {
		return nil, "", fmt.Errorf("want FROM after the select list")
	}
	from := next()
	if !isIdent(from) {
		return nil, "", fmt.Errorf("want a table name after FROM, got %q", from)
	}
	from = unquote(from)
	if i < len(toks) {
		if !strings.EqualFold(next(), "where") {
			return nil, "", fmt.Errorf("unexpected %q after the table name", toks[i-1])
		}
		if err := parseInKeyrange(toks[i:], shard); err != nil {
			return nil, "", err
		}
	}
	if star {
		if len(cols) > 0 {
			return nil, "", fmt.Errorf("mixing * with columns is not supported")
		}
		return nil, from, nil
	}
	return cols, from, nil
}

// parseInKeyrange accepts "in_keyrange('-')" / "in_keyrange(col, 'hash', '-80')" covering shard.
func parseInKeyrange(toks []string, shard string) error {
	if len(toks) < 3 || !strings.EqualFold(toks[0], "in_keyrange") || toks[1] != "(" || toks[len(toks)-1] != ")" {
		return fmt.Errorf("only where in_keyrange(...) is supported")
	}
	args := toks[2 : len(toks)-1]
	last := ""
	if len(args) > 0 {
		last = args[len(args)-1]
	}
	if !strings.HasPrefix(last, "'") {
		return fmt.Errorf("in_keyrange needs a quoted key range")
	}
	if !coversShard(strings.Trim(last, "'"), shard) {
		return fmt.Errorf("in_keyrange(%s) does not cover shard %q (vtdirect streams whole shards)", last, shard)
	}
	return nil
}

// tokenize splits a filter query into identifiers, quoted strings and punctuation.
func tokenize(q string) ([]string, error) {
	var toks []string
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ',' || c == '(' || c == ')' || c == '*':
			toks = append(toks, string(c))
			i++
		case c == '`' || c == '\'' || c == '"':
			j := strings.IndexByte(q[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", q)
			}
			toks = append(toks, q[i:i+j+2])
			i += j + 2
		case c == '_' || c == '.' || c == '-' || c == '$' || (c|0x20 >= 'a' && c|0x20 <= 'z') || (c >= '0' && c <= '9'):
			j := i
			for j < len(q) && (q[j] == '_' || q[j] == '.' || q[j] == '-' || q[j] == '$' || (q[j]|0x20 >= 'a' && q[j]|0x20 <= 'z') || (q[j] >= '0' && q[j] <= '9')) {
				j++
			}
			toks = append(toks, q[i:j])
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q in %q", c, q)
		}
	}
	return toks, nil
}

func isIdent(t string) bool {
	if t == "" || t == "," || t == "(" || t == ")" || t == "*" || t[0] == '\'' || t[0] == '"' {
		return false
	}
	switch strings.ToLower(t) {
	case "from", "where", "as", "select":
		return false
	}
	return true
}

func unquote(t string) string {
	if len(t) >= 2 && t[0] == '`' {
		return t[1 : len(t)-1]
	}
	// "ks.t" names the table t of keyspace ks: keep the table.
	if k := strings.LastIndexByte(t, '.'); k >= 0 {
		return t[k+1:]
	}
	return t
}
