package classify

import "strings"

// unquoteString returns the value of a TokString token: without its introducer and quotes,
// doubled quotes and backslash escapes resolved as MariaDB does
// (https://mariadb.com/kb/en/string-literals/).
func unquoteString(q []byte, t Token, opt Options) (string, bool) {
	if t.Kind != TokString && t.Kind != TokUserVar {
		return "", false
	}
	s := q[t.Start:t.End]
	i := 0
	for i < len(s) && s[i] != '\'' && s[i] != '"' && s[i] != '`' {
		i++ // N, _charset, @
	}
	if len(s)-i < 2 {
		return "", false
	}
	quote := s[i]
	body := s[i+1 : len(s)-1]
	escapes := quote != '`' && !opt.NoBackslashEscapes
	var b strings.Builder
	b.Grow(len(body))
	for j := 0; j < len(body); j++ {
		c := body[j]
		switch {
		case c >= 0x80 && opt.Charset.multiByte() && opt.Charset.mbLen(body, j) == 2:
			b.WriteByte(c)
			b.WriteByte(body[j+1])
			j++
		case c == quote && j+1 < len(body) && body[j+1] == quote:
			b.WriteByte(quote)
			j++
		case c == '\\' && escapes && j+1 < len(body):
			j++
			if e := body[j]; e == '%' || e == '_' {
				b.WriteByte('\\') // \% and \_ keep their backslash: they matter to LIKE
				b.WriteByte(e)
			} else {
				b.WriteByte(unescape(e))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// unescape returns the byte a backslash followed by c stands for.
func unescape(c byte) byte {
	switch c {
	case '0':
		return 0
	case 'b':
		return '\b'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'Z':
		return 0x1a
	}
	return c
}

// identName returns the name of an identifier token (TokWord, or TokQuotedIdent without its
// quotes, doubled quotes resolved).
func identName(q []byte, t Token) (string, bool) {
	switch t.Kind {
	case TokWord:
		return string(q[t.Start:t.End]), true
	case TokQuotedIdent:
		s := q[t.Start+1 : t.End-1]
		quote := q[t.Start]
		if !hasByte(s, quote) {
			return string(s), true
		}
		var b strings.Builder
		for j := 0; j < len(s); j++ {
			b.WriteByte(s[j])
			if s[j] == quote && j+1 < len(s) && s[j+1] == quote {
				j++
			}
		}
		return b.String(), true
	}
	return "", false
}

// identBytes returns an identifier token's name bytes without allocating (quotes stripped,
// doubled quotes left as they are: good enough to compare with names that have none).
func identBytes(q []byte, t Token) []byte {
	switch t.Kind {
	case TokWord:
		return q[t.Start:t.End]
	case TokQuotedIdent:
		return q[t.Start+1 : t.End-1]
	}
	return nil
}

// equalFold compares ASCII bytes with a lower-case name, ignoring case.
func equalFold(b []byte, name string) bool {
	if len(b) != len(name) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether b starts with the lower-case prefix, ignoring case.
func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && equalFold(b[:len(prefix)], prefix)
}

// sysVarParts splits the text of a TokSysVar token into its scope ("global", "session",
// "local" or "") and its name (back-quotes kept).
func sysVarParts(text []byte) (scope string, name []byte) {
	name = text[2:]
	for _, s := range [...]string{"global", "session", "local"} {
		if len(name) > len(s) && name[len(s)] == '.' && equalFold(name[:len(s)], s) {
			return s, name[len(s)+1:]
		}
	}
	return "", name
}

// sysVarNameIs compares a system variable name (possibly back-quoted) with a lower-case name.
func sysVarNameIs(name []byte, want string) bool {
	if len(name) >= 2 && name[0] == '`' && name[len(name)-1] == '`' {
		name = name[1 : len(name)-1]
	}
	return equalFold(name, want)
}
