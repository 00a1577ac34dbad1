package planner

import (
	"strconv"

	"github.com/vtdirect/vtdirect/vindex"
)

// Template is a statement to send, with holes for values known only when it runs: the
// statement's literals (spelt as the client wrote them), the session's LAST_INSERT_ID(), a
// LIMIT computed from the client's, a sequence value.
type Template struct {
	segs []segment
}

type segKind uint8

const (
	segText segKind = iota
	segArg
	segLastInsertID
	segLimitSum // LIMIT offset+count (arg indices in arg and arg2)
	segSeq      // the row's sequence value (inserts)
	segAlias    // a column alias: sub rendered inside backticks
	segVerbatim // the statement as the client sent it (Values.Text)
)

type segment struct {
	kind      segKind
	text      string
	arg, arg2 int
	sub       *Template
}

// TextTemplate is a template without holes.
func TextTemplate(s string) Template { return Template{segs: []segment{{kind: segText, text: s}}} }

// IsZero reports an empty template.
func (t Template) IsZero() bool { return len(t.segs) == 0 }

// Values are what a template's holes get.
type Values struct {
	// Args are the statement's arguments as SQL text (the literals as written, or a prepared
	// statement's parameters encoded as literals); Vals the same as values.
	Args [][]byte
	Vals []vindex.Value
	// LastInsertID is the session's.
	LastInsertID uint64
	// Seq is the sequence value of the row being rendered, when Fill (else the row's own
	// value is written).
	Seq  int64
	Fill bool
	// Text is the statement as the client sent it.
	Text []byte
}

// VerbatimTemplate is the client's statement itself, whatever it is.
func VerbatimTemplate() Template { return Template{segs: []segment{{kind: segVerbatim}}} }

// Render appends the statement to dst.
func (t Template) Render(dst []byte, v *Values) []byte {
	for _, s := range t.segs {
		switch s.kind {
		case segText:
			dst = append(dst, s.text...)
		case segArg:
			dst = append(dst, v.Args[s.arg]...)
		case segLastInsertID:
			dst = strconv.AppendUint(dst, v.LastInsertID, 10)
		case segLimitSum:
			dst = strconv.AppendUint(dst, limitSum(v.Vals, s.arg, s.arg2), 10)
		case segSeq:
			if v.Fill || s.arg < 0 {
				dst = strconv.AppendInt(dst, v.Seq, 10)
			} else {
				dst = append(dst, v.Args[s.arg]...)
			}
		case segVerbatim:
			dst = append(dst, v.Text...)
		case segAlias:
			dst = append(dst, '`')
			start := len(dst)
			dst = s.sub.Render(dst, v)
			if n := countByte(dst[start:], '`'); n > 0 {
				// Backticks in the name are doubled inside the quoted alias.
				name := append([]byte(nil), dst[start:]...)
				dst = dst[:start]
				for _, c := range name {
					if c == '`' {
						dst = append(dst, '`')
					}
					dst = append(dst, c)
				}
			}
			dst = append(dst, '`')
		}
	}
	return dst
}

func countByte(b []byte, c byte) int {
	n := 0
	for _, x := range b {
		if x == c {
			n++
		}
	}
	return n
}

// String renders the template with its holes named, for tests and EXPLAIN-like output.
func (t Template) String() string {
	var b []byte
	for _, s := range t.segs {
		switch s.kind {
		case segText:
			b = append(b, s.text...)
		case segArg:
			b = append(b, ':', 'v')
			b = strconv.AppendInt(b, int64(s.arg+1), 10)
		case segLastInsertID:
			b = append(b, ":last_insert_id"...)
		case segLimitSum:
			b = append(b, ":v"...)
			b = strconv.AppendInt(b, int64(s.arg+1), 10)
			b = append(b, "+:v"...)
			b = strconv.AppendInt(b, int64(s.arg2+1), 10)
		case segSeq:
			b = append(b, ":seq"...)
		case segVerbatim:
			b = append(b, ":statement"...)
		case segAlias:
			b = append(b, '`')
			b = append(b, s.sub.String()...)
			b = append(b, '`')
		}
	}
	return string(b)
}

// limitSum is offset+count of a LIMIT (arg < 0: no offset), capped at the largest LIMIT.
func limitSum(vals []vindex.Value, off, count int) uint64 {
	c := argUint(vals, count)
	if off < 0 {
		return c
	}
	o := argUint(vals, off)
	if o+c < o {
		return 1<<64 - 1
	}
	return o + c
}

func argUint(vals []vindex.Value, i int) uint64 {
	n, _ := strconv.ParseUint(string(vals[i].Raw), 10, 64)
	return n
}

// SQLLiteral writes a value as an SQL literal that means the same whatever the sql_mode:
// numbers as they are, strings quoted (backslashes doubled unless noBackslash), bytes as
// X'..', NULL.
func SQLLiteral(dst []byte, v vindex.Value, noBackslash bool) []byte {
	switch v.Kind {
	case vindex.Null:
		return append(dst, "NULL"...)
	case vindex.Int64, vindex.Uint64, vindex.Decimal, vindex.Float64:
		return append(dst, v.Raw...)
	case vindex.VarBinary:
		dst = append(dst, "X'"...)
		dst = appendHex(dst, v.Raw)
		return append(dst, '\'')
	}
	return append(dst, quoteString(string(v.Raw), noBackslash)...)
}

func appendHex(dst, b []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range b {
		dst = append(dst, digits[c>>4], digits[c&15])
	}
	return dst
}
