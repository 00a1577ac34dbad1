package classify

// Options are the session settings that change how MariaDB reads a query's bytes.
type Options struct {
	// NoBackslashEscapes: sql_mode NO_BACKSLASH_ESCAPES, a backslash in a string is a plain
	// character. The server reports it with status flag 0x0200.
	NoBackslashEscapes bool
	// AnsiQuotes: sql_mode ANSI_QUOTES, "..." quotes an identifier, not a string. MariaDB
	// reports it with status flag 0x8000.
	AnsiQuotes bool
	// Charset is what of the client character set changes tokenization: multi-byte
	// characters that may contain the bytes of '\\' and '`' (big5, cp932, gbk, sjis), which
	// MariaDB reads as a whole, so that their second byte neither escapes nor ends anything;
	// a byte >= 0x80 that is white space (0xA0 in latin1...). See CharsetByName.
	Charset Charset
}

// MariaDB's server status flags for the two sql_mode settings that change tokenization.
const (
	StatusNoBackslashEscapes uint16 = 0x0200 // SERVER_STATUS_NO_BACKSLASH_ESCAPES
	StatusAnsiQuotes         uint16 = 0x8000 // SERVER_STATUS_ANSI_QUOTES (MariaDB only)
)

// OptionsFromStatus reads the sql_mode bits from the status flags of a server's last OK or
// EOF packet, keeping the Charset of base.
func OptionsFromStatus(base Options, status uint16) Options {
	base.NoBackslashEscapes = status&StatusNoBackslashEscapes != 0
	base.AnsiQuotes = status&StatusAnsiQuotes != 0
	return base
}

// Charset is a client character set as far as tokenization cares.
type Charset uint8

const (
	CharsetSafe    Charset = iota // every character set whose multi-byte characters use only bytes >= 0x80 (utf8mb4, latin1...)
	CharsetBig5                   // big5: lead 0xA1-0xF9, trail 0x40-0x7E, 0xA1-0xFE
	CharsetGBK                    // gbk: lead 0x81-0xFE, trail 0x40-0x7E, 0x80-0xFE
	CharsetSJIS                   // sjis and cp932: lead 0x81-0x9F, 0xE0-0xFC, trail 0x40-0x7E, 0x80-0xFC
	CharsetSpaceA0                // a single-byte set in which 0xA0 is white space: latin1, latin2, latin5, latin7, cp1250, greek, hebrew, armscii8, dec8, geostd8
	CharsetSpaceFF                // a single-byte set in which 0xFF is white space: cp852, cp866, keybcs2
)

// CharsetByName maps a MariaDB character set name (as in SET NAMES, lower case) to the
// tokenizer's Charset.
func CharsetByName(name string) Charset {
	switch name {
	case "big5":
		return CharsetBig5
	case "gbk":
		return CharsetGBK
	case "sjis", "cp932":
		return CharsetSJIS
	case "latin1", "latin2", "latin5", "latin7", "cp1250", "greek", "hebrew", "armscii8", "dec8", "geostd8":
		return CharsetSpaceA0
	case "cp852", "cp866", "keybcs2":
		return CharsetSpaceFF
	}
	return CharsetSafe
}

// space returns the byte >= 0x80 that c has as white space (checked on MariaDB 10.11 for
// every single-byte character set), or 0.
func (c Charset) space() byte {
	switch c {
	case CharsetSpaceA0:
		return 0xa0
	case CharsetSpaceFF:
		return 0xff
	}
	return 0
}

// multiByte reports a set whose two-byte characters need reading as a whole.
func (c Charset) multiByte() bool { return c >= CharsetBig5 && c <= CharsetSJIS }

// mbLen returns 2 when q[i:] starts with a two-byte character of c, else 1.
func (c Charset) mbLen(q []byte, i int) int {
	if !c.multiByte() || i+1 >= len(q) {
		return 1
	}
	lead, trail := q[i], q[i+1]
	switch c {
	case CharsetBig5:
		if lead >= 0xA1 && lead <= 0xF9 && ((trail >= 0x40 && trail <= 0x7E) || (trail >= 0xA1 && trail <= 0xFE)) {
			return 2
		}
	case CharsetGBK:
		if lead >= 0x81 && lead <= 0xFE && ((trail >= 0x40 && trail <= 0x7E) || (trail >= 0x80 && trail <= 0xFE)) {
			return 2
		}
	case CharsetSJIS:
		if ((lead >= 0x81 && lead <= 0x9F) || (lead >= 0xE0 && lead <= 0xFC)) &&
			((trail >= 0x40 && trail <= 0x7E) || (trail >= 0x80 && trail <= 0xFC)) {
			return 2
		}
	}
	return 1
}

// sqlModeOptions applies a literal sql_mode value to o: the modes that set ANSI_QUOTES (itself,
// ANSI and the combination modes that include it) and NO_BACKSLASH_ESCAPES.
func sqlModeOptions(o Options, mode string) Options {
	o.AnsiQuotes, o.NoBackslashEscapes = false, false
	for len(mode) > 0 {
		i := 0
		for i < len(mode) && mode[i] != ',' {
			i++
		}
		switch w := lowerASCII(trimSpace(mode[:i])); w {
		case "ansi_quotes", "ansi", "postgresql", "oracle", "mssql", "db2", "maxdb":
			o.AnsiQuotes = true
		case "no_backslash_escapes":
			o.NoBackslashEscapes = true
		}
		if i == len(mode) {
			break
		}
		mode = mode[i+1:]
	}
	return o
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
