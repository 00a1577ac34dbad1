package classify

import (
	"strings"
	"testing"
)

// tokens renders the tokens of q as kind:text, space separated.
func tokens(q string, opt Options) string {
	tz := NewTokenizer([]byte(q), opt)
	var out []string
	for {
		t := tz.Next()
		if t.Kind == TokEOF {
			return strings.Join(out, " ")
		}
		out = append(out, t.Kind.String()+":"+q[t.Start:t.End])
		if t.Kind == TokError {
			return strings.Join(out, " ")
		}
	}
}

func TestTokenizer(t *testing.T) {
	tests := []struct {
		q    string
		opt  Options
		want string
	}{
		{"SELECT c FROM t WHERE id=123", Options{}, "word:SELECT word:c word:FROM word:t word:WHERE word:id op:= number:123"},
		{"a.b, `c``d`.e", Options{}, "word:a .:. word:b ,:, quoted_ident:`c``d` .:. word:e"},
		{"1.5 .5 1e10 1.5e-3 123abc 1ea 0x1F 0b101 0xg X'0F' b'01' t.5", Options{},
			"number:1.5 number:.5 number:1e10 number:1.5e-3 word:123abc word:1ea hex:0x1F bit:0b101 word:0xg hex:X'0F' bit:b'01' word:t .:. number:5"},
		{"1..10", Options{}, "number:1 op:.. number:10"},
		{`'a''b' 'c\'d' "e""f" "g\"h"`, Options{}, `string:'a''b' string:'c\'d' string:"e""f" string:"g\"h"`},
		{`N'x' n'y' _utf8mb4'z' _latin1"w" _binary 'v'`, Options{}, `string:N'x' string:n'y' string:_utf8mb4'z' string:_latin1"w" word:_binary string:'v'`},
		{`'a\' c'`, Options{NoBackslashEscapes: true}, `string:'a\' word:c error:'`},
		{`"a" 'b'`, Options{AnsiQuotes: true}, `quoted_ident:"a" string:'b'`},
		{`"a\"`, Options{AnsiQuotes: true}, `quoted_ident:"a\"`},
		{"@a @a.b$c @'x y' @\"z\" @`w` @ @@x @@global.x @@SESSION.`y` @@local.k.v @@`z` @@", Options{},
			"user_var:@a user_var:@a.b$c user_var:@'x y' user_var:@\"z\" user_var:@`w` op:@ sys_var:@@x sys_var:@@global.x sys_var:@@SESSION.`y` sys_var:@@local.k.v sys_var:@@`z` op:@@"},
		{"'u'@'h' u@localhost", Options{}, "string:'u' user_var:@'h' word:u user_var:@localhost"},
		{"a:=b <=> c <= d >= e <> f != g << h >> i && j || k ? ; ( )", Options{},
			"word:a op::= word:b op:<=> word:c op:<= word:d op:>= word:e op:<> word:f op:!= word:g op:<< word:h op:>> word:i op:&& word:j op:|| word:k placeholder:? ;:; (:( ):)"},
		{"a -- c\nb #c\nc /* x */ d --\te\nf --", Options{}, "word:a word:b word:c word:d word:f"},
		{"a --b", Options{}, "word:a op:- op:- word:b"},
		{"a /*! b */ c /*!40101 d */ /*M!100100 e */ /*M! f */ /*!1234 g */", Options{}, "word:a word:b word:c word:d word:e word:f number:1234 word:g"},
		{"/*!50700 a /* c */ b */ x", Options{}, "word:a word:b word:x"},
		{"/*!40101 a*/b", Options{}, "word:a word:b"},
		{"/*! a /*! b */", Options{}, "word:a error:/*! b */"},
		{"a */ b", Options{}, "word:a op:* op:/ word:b"},
		{"/*+ hint */ /*vt+ X=1 */ /*M x */ a", Options{}, "word:a"},
		{"a /* open", Options{}, "word:a error:/* open"},
		{"a /*! open", Options{}, "word:a word:open error:"},
		{"'open", Options{}, "error:'open"},
		{"`open", Options{}, "error:`open"},
		{"@'open", Options{}, "error:@'open"},
		{"é_ident $x", Options{}, "word:é_ident word:$x"},
		{"'\xbf\x5c' x '", Options{Charset: CharsetGBK}, "string:'\xbf\x5c' word:x error:'"},
		{"'\xbf\x5c' x '", Options{}, "string:'\xbf\x5c' x '"},
		{"`\x95\x60` x", Options{Charset: CharsetSJIS}, "quoted_ident:`\x95\x60` word:x"},
		{"'\xa4\x5c' x", Options{Charset: CharsetBig5}, "string:'\xa4\x5c' word:x"},
		// In latin1 0xA0 is white space (also after "--"); in utf8mb4 it is part of a name.
		{"select\xa01,\xa0x --\xa0c\nb", Options{Charset: CharsetSpaceA0}, "word:select number:1 ,:, word:x word:b"},
		{"select\xa01", Options{}, "word:select\xa01"},
		{"a\xffb", Options{Charset: CharsetSpaceFF}, "word:a word:b"},
		{"a --\x7fb", Options{}, "word:a"},
	}
	for _, tt := range tests {
		if got := tokens(tt.q, tt.opt); got != tt.want {
			t.Errorf("tokens(%q, %+v):\n got %s\nwant %s", tt.q, tt.opt, got, tt.want)
		}
	}
}

func TestKeywordTable(t *testing.T) {
	for k := keyword(1); k < numKeywords; k++ {
		name := keywordNames[k]
		if got := lookupKeyword([]byte(name)); got != k {
			t.Errorf("lookupKeyword(%q) = %d, want %d", name, got, k)
		}
		if got := lookupKeyword([]byte(strings.ToUpper(name))); got != k {
			t.Errorf("lookupKeyword(%q) = %d, want %d", strings.ToUpper(name), got, k)
		}
	}
	for _, w := range []string{"", "x", "selec", "selects", "sbtest1", strings.Repeat("a", 100)} {
		if got := lookupKeyword([]byte(w)); got != noKeyword {
			t.Errorf("lookupKeyword(%q) = %s, want none", w, keywordNames[got])
		}
	}
}

// TestScanWord keeps the per-query path's filter in step with the keywords scanner.word
// reads in modeNormal.
func TestScanWord(t *testing.T) {
	for _, k := range []keyword{kwFor, kwInto, kwNext, kwValue, kwUpdate, kwOutfile, kwDumpfile, kwPrevious,
		kwSqlCalcFoundRows} {
		if !scanWord([]byte(keywordNames[k])) {
			t.Errorf("scanWord(%q) = false", keywordNames[k])
		}
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct {
		q    string
		opt  Options
		want string
	}{
		{`'a''b'`, Options{}, "a'b"},
		{`'a\nb\tc\0\Z\\\%\_\x'`, Options{}, "a\nb\tc\x00\x1a\\\\%\\_x"},
		{`'a\n'`, Options{NoBackslashEscapes: true}, `a\n`},
		{`"a""b"`, Options{}, `a"b`},
		{`_utf8mb4'x'`, Options{}, "x"},
		{`N'y'`, Options{}, "y"},
		{"'\xbf\x5c'", Options{Charset: CharsetGBK}, "\xbf\x5c"},
	}
	for _, tt := range tests {
		tz := NewTokenizer([]byte(tt.q), tt.opt)
		tok := tz.Next()
		if got, ok := unquoteString([]byte(tt.q), tok, tt.opt); !ok || got != tt.want {
			t.Errorf("unquote(%q) = %q, %v; want %q", tt.q, got, ok, tt.want)
		}
	}
}

func TestSQLModeOptions(t *testing.T) {
	tests := []struct {
		mode       string
		ansi, nobs bool
	}{
		{"", false, false},
		{"ANSI_QUOTES", true, false},
		{"strict_trans_tables,ansi_quotes  ,NO_BACKSLASH_ESCAPES", true, true},
		{"ANSI", true, false},
		{"ORACLE", true, false},
		{"TRADITIONAL", false, false},
		{"NO_BACKSLASH_ESCAPES", false, true},
	}
	for _, tt := range tests {
		o, ok := sqlModeOptions(Options{AnsiQuotes: true, NoBackslashEscapes: true}, tt.mode, false)
		if !ok || o.AnsiQuotes != tt.ansi || o.NoBackslashEscapes != tt.nobs {
			t.Errorf("sqlModeOptions(%q) = %+v", tt.mode, o)
		}
	}
}

// TestIdentBytes holds the bit sets of isIdentStart and isIdentByte to their definition.
func TestIdentBytes(t *testing.T) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		start := (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == '_' || b == '$' || b >= 0x80
		if isIdentStart(b) != start || isIdentByte(b) != (start || (b >= '0' && b <= '9')) {
			t.Errorf("byte %q: start %v, ident %v", b, isIdentStart(b), isIdentByte(b))
		}
	}
}
