package planner

import "strings"

// itemText is the text of one item of a select list as the client wrote it (with '?' for
// its literals, in the normalized text): MariaDB names a column after it, so a statement the
// gateway rewrites gives that name back as an alias.
type itemText struct {
	text     string // trimmed
	firstArg int    // index of its first '?' among the statement's
}

// selectItems splits the select list of the first SELECT of b.key. It returns nil when it
// cannot (the caller then does without the names).
func (b *builder) selectItems() []itemText {
	q := b.key
	i := skipBlank(q, 0)
	if !hasWordAt(q, i, "select") {
		return nil
	}
	i += len("select")
	args := 0
	// Modifiers.
	for {
		j := skipBlank(q, i)
		w := wordAt(q, j)
		switch strings.ToLower(w) {
		case "all", "distinct", "distinctrow", "high_priority", "straight_join", "sql_small_result",
			"sql_big_result", "sql_buffer_result", "sql_no_cache", "sql_cache", "sql_calc_found_rows":
			i = j + len(w)
			continue
		}
		break
	}
	var out []itemText
	depth := 0
	start := i
	startArgs := args
	flush := func(end int) {
		out = append(out, itemText{text: strings.TrimSpace(q[start:end]), firstArg: startArgs})
	}
	for i < len(q) {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(q, i)
			continue
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			if end := strings.Index(q[i+2:], "*/"); end >= 0 {
				i += end + 4
				continue
			}
			return nil
		case c == '?':
			args++
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			flush(i)
			start, startArgs = i+1, args
		case c == ';' && depth == 0:
			flush(i)
			return out
		case isIdentByte(c) && depth == 0 && (i == 0 || !isIdentByte(q[i-1])):
			w := wordAt(q, i)
			switch strings.ToLower(w) {
			case "from", "into", "where", "group", "having", "window", "order", "limit", "for", "lock", "union", "procedure":
				flush(i)
				return out
			}
			i += len(w)
			continue
		}
		i++
	}
	flush(len(q))
	return out
}

func skipBlank(q string, i int) int {
	for i < len(q) {
		switch {
		case isSpace(q[i]):
			i++
		case q[i] == '/' && i+1 < len(q) && q[i+1] == '*':
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return len(q)
			}
			i += end + 4
		default:
			return i
		}
	}
	return i
}

func wordAt(q string, i int) string {
	j := i
	for j < len(q) && isIdentByte(q[j]) {
		j++
	}
	return q[i:j]
}

func hasWordAt(q string, i int, w string) bool { return strings.EqualFold(wordAt(q, i), w) }

func skipQuoted(q string, i int) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		switch {
		case q[j] == '\\' && quote != '`':
			j++
		case q[j] == quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// aliasTemplate is the template of an item's text, its '?' holes the statement's arguments.
func aliasTemplate(it itemText) *Template {
	t := &Template{}
	arg := it.firstArg
	last := 0
	for i := 0; i < len(it.text); i++ {
		switch c := it.text[i]; {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(it.text, i) - 1
		case c == '?':
			if i > last {
				t.segs = append(t.segs, segment{kind: segText, text: it.text[last:i]})
			}
			t.segs = append(t.segs, segment{kind: segArg, arg: arg})
			arg++
			last = i + 1
		}
	}
	if last < len(it.text) {
		t.segs = append(t.segs, segment{kind: segText, text: it.text[last:]})
	}
	return t
}
