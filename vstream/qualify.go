package vstream

// qualifiers lists the database names that statement q qualifies identifiers with ("db.t",
// "`db`.`t`"), skipping string literals, quoted identifiers' contents, comments and numbers
// ("1.5"). The tracker uses it to tell which DDLs belong to the tracked database and to
// refuse to replay on its shadow any statement that names another database.
func qualifiers(q string) []string {
	var out []string
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			i = skipQuoted(q, i, c)
		case c == '#' || c == '-' && i+2 < len(q) && q[i+1] == '-' && (q[i+2] == ' ' || q[i+2] == '\t'):
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			// Executable comments (/*! ... */, /*M! ... */) hold SQL: read inside them.
			if i+2 < len(q) && (q[i+2] == '!' || q[i+2] == 'M') {
				i += 2
				for i < len(q) && (q[i] == '!' || q[i] == 'M' || q[i] >= '0' && q[i] <= '9') {
					i++
				}
				continue
			}
			end := indexFrom(q, "*/", i+2)
			if end < 0 {
				return out
			}
			i = end + 2
		case c == '`':
			j := skipQuoted(q, i, '`')
			name := unquoteBackticks(q[i:j])
			if j < len(q) && q[j] == '.' && j+1 < len(q) && identStart(q[j+1]) {
				out = append(out, name)
			}
			i = j
		case identStart(c):
			j := i
			for j < len(q) && identChar(q[j]) {
				j++
			}
			if j < len(q) && q[j] == '.' && j+1 < len(q) && identStart(q[j+1]) {
				out = append(out, q[i:j])
			}
			i = j
		case c >= '0' && c <= '9':
			for i < len(q) && (identChar(q[i]) || q[i] == '.') {
				i++
			}
		default:
			i++
		}
	}
	return out
}

func identStart(c byte) bool {
	return c == '_' || c == '$' || c == '`' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func identChar(c byte) bool { return identStart(c) && c != '`' || c >= '0' && c <= '9' }

// skipQuoted returns the index after the quoted text starting at i (quote doubled or
// backslash-escaped inside).
func skipQuoted(q string, i int, quote byte) int {
	j := i + 1
	for j < len(q) {
		switch {
		case q[j] == '\\' && quote != '`':
			j += 2
			continue
		case q[j] == quote:
			if j+1 < len(q) && q[j+1] == quote {
				j += 2
				continue
			}
			return j + 1
		}
		j++
	}
	return len(q)
}

func unquoteBackticks(s string) string {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		s = s[1 : len(s)-1]
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '`' && i+1 < len(s) && s[i+1] == '`' {
			i++
		}
	}
	return string(out)
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
