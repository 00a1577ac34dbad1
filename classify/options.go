package classify

import (
	"slices"
	"strconv"
	"strings"
)

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
	// Oracle: sql_mode ORACLE, under which MariaDB reads statements with another grammar
	// (PL/SQL blocks, packages) that this package does not follow: every statement is then
	// KindUnknown with the Admin flag (it cannot be judged). The status flags do not say
	// it: the caller sets it when it knows the session's sql_mode has it.
	Oracle bool
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

// OptionsFromSQLMode applies a session's sql_mode value, as MariaDB reports it (a list of
// mode names, or a number: MariaDB's bitmask), to base (its Charset kept): AnsiQuotes,
// NoBackslashEscapes and Oracle. It reports false for a value it cannot read (a mode name it
// does not know), with base unchanged.
func OptionsFromSQLMode(base Options, mode string) (Options, bool) {
	number := mode != ""
	for i := 0; i < len(mode); i++ {
		if mode[i] < '0' || mode[i] > '9' {
			number = false
			break
		}
	}
	o, ok := sqlModeOptions(base, mode, number)
	if !ok {
		return base, false
	}
	return o, true
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

// sqlModeOptions applies a literal sql_mode value to o, and reports false when it cannot
// tell what MariaDB makes of it. A value is a list of mode names (a string or a bare word:
// the modes that set ANSI_QUOTES are itself, ANSI and the combination modes that include
// it) or a decimal number, MariaDB's bitmask of the modes in the order it lists them. A
// name it does not know, DEFAULT (the global value, which may be anything) and NULL are
// unknown. ORACLE sets Options.Oracle.
func sqlModeOptions(o Options, mode string, number bool) (Options, bool) {
	o.AnsiQuotes, o.NoBackslashEscapes, o.Oracle = false, false, false
	if number {
		bits, err := strconv.ParseUint(mode, 10, 64)
		if err != nil || bits >= 1<<len(sqlModeNames) {
			return o, false // MariaDB refuses a bit it does not have: unknown is as good
		}
		for i, name := range sqlModeNames {
			var ok bool
			if bits&(1<<i) != 0 {
				if o, ok = applySQLMode(o, name); !ok {
					return o, false
				}
			}
		}
		return o, true
	}
	if w := lowerASCII(mode); w == "default" || w == "null" {
		return o, false
	}
	for len(mode) > 0 {
		i := strings.IndexByte(mode, ',')
		if i < 0 {
			i = len(mode)
		}
		var ok bool
		// MariaDB 10.11 drops the spaces after a name, and refuses any before it.
		if w := lowerASCII(strings.TrimRight(mode[:i], " ")); w != "" {
			if o, ok = applySQLMode(o, w); !ok {
				return o, false
			}
		}
		if i == len(mode) {
			break
		}
		mode = mode[i+1:]
	}
	return o, true
}

// applySQLMode applies one mode name (lower case) to o; false for a name it does not know.
func applySQLMode(o Options, name string) (Options, bool) {
	switch name {
	case "ansi_quotes", "ansi", "postgresql", "mssql", "db2", "maxdb":
		o.AnsiQuotes = true
	case "no_backslash_escapes":
		o.NoBackslashEscapes = true
	case "oracle":
		o.AnsiQuotes, o.Oracle = true, true
	default:
		if !slices.Contains(sqlModeNames[:], name) {
			return o, false
		}
	}
	return o, true
}

// sqlModeNames are MariaDB 10.11's sql_mode names, bit 0 first (as
// information_schema.SYSTEM_VARIABLES lists them: mariadb_test.go checks it).
var sqlModeNames = [...]string{"real_as_float", "pipes_as_concat", "ansi_quotes", "ignore_space",
	"ignore_bad_table_options", "only_full_group_by", "no_unsigned_subtraction", "no_dir_in_create", "postgresql",
	"oracle", "mssql", "db2", "maxdb", "no_key_options", "no_table_options", "no_field_options", "mysql323",
	"mysql40", "ansi", "no_auto_value_on_zero", "no_backslash_escapes", "strict_trans_tables", "strict_all_tables",
	"no_zero_in_date", "no_zero_date", "allow_invalid_dates", "error_for_division_by_zero", "traditional",
	"no_auto_create_user", "high_not_precedence", "no_engine_substitution", "pad_char_to_full_length",
	"empty_string_is_null", "simultaneous_assignment", "time_round_fractional"}

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

// SQLModeHas reports whether a sql_mode value (as OptionsFromSQLMode reads it: a list of
// names, any case, or MariaDB's bitmask as a decimal number) names mode (lower case). It
// does not expand the combination modes (ANSI, ORACLE...): MariaDB reports them expanded,
// and a caller that needs what they set names them too.
func SQLModeHas(value, mode string) bool {
	number := value != ""
	for i := 0; i < len(value) && number; i++ {
		number = value[i] >= '0' && value[i] <= '9'
	}
	if number {
		bits, err := strconv.ParseUint(value, 10, 64)
		i := slices.Index(sqlModeNames[:], mode)
		return err == nil && i >= 0 && bits&(1<<i) != 0
	}
	for m := range strings.SplitSeq(value, ",") {
		if strings.EqualFold(strings.TrimSpace(m), mode) {
			return true
		}
	}
	return false
}
