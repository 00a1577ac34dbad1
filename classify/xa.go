package classify

import (
	"encoding/hex"
	"strconv"
)

// XAVerb is what an XA statement does (https://mariadb.com/kb/en/xa-transactions/).
type XAVerb uint8

const (
	XAOther    XAVerb = iota // not read
	XAStart                  // XA START | BEGIN xid [JOIN | RESUME]
	XAEnd                    // XA END xid [SUSPEND [FOR MIGRATE]]
	XAPrepare                // XA PREPARE xid
	XACommit                 // XA COMMIT xid [ONE PHASE]
	XARollback               // XA ROLLBACK xid
	XARecover                // XA RECOVER [FORMAT = 'RAW' | 'SQL']: every prepared branch of the server (Admin)
)

// XAStatement details an XA statement.
type XAStatement struct {
	Verb XAVerb
	// Xid is the transaction's xid, when HasXid: its parts as MariaDB reads them, so that two
	// spellings of one xid ('a', X'61', 0x61; formatID 1 written or not) compare equal.
	Xid    Xid
	HasXid bool
}

// Xid is an XA transaction id: gtrid [, bqual [, formatID]] with their bytes (bqual "" and
// formatID 1 when not written, as MariaDB takes them). It is comparable with ==.
type Xid struct {
	Gtrid, Bqual string
	FormatID     uint64
}

const reasonXARecover = "XA RECOVER lists every session's prepared XA transactions"

// classifyXA reads XA verb [xid]. An xid written other than as literals MariaDB takes
// (strings without an introducer, X'..', 0x.., B'..', a whole number as formatID) is not
// reported (HasXid false): the caller cannot match it.
func classifyXA(c *cursor) Statement {
	st := Statement{Kind: KindXA, Flags: XA, XA: &XAStatement{}}
	c.advance()
	if c.tok.Kind != TokWord {
		return st
	}
	w := c.text()
	switch {
	case equalFold(w, "start"), c.is(kwBegin):
		st.XA.Verb = XAStart
	case c.is(kwEnd):
		st.XA.Verb = XAEnd
	case c.is(kwPrepare):
		st.XA.Verb = XAPrepare
	case c.is(kwCommit):
		st.XA.Verb = XACommit
	case c.is(kwRollback):
		st.XA.Verb = XARollback
	case equalFold(w, "recover"):
		st.XA.Verb = XARecover
		st.setAdmin(reasonXARecover)
		return st
	default:
		return st
	}
	c.advance()
	st.XA.Xid, st.XA.HasXid = xid(c)
	return st
}

// xid reads gtrid [, bqual [, formatID]].
func xid(c *cursor) (Xid, bool) {
	x := Xid{FormatID: 1}
	var ok bool
	if x.Gtrid, ok = xidPart(c); !ok {
		return x, false
	}
	if !c.acceptKind(TokComma) {
		return x, true
	}
	if x.Bqual, ok = xidPart(c); !ok {
		return x, false
	}
	if !c.acceptKind(TokComma) {
		return x, true
	}
	switch text := string(c.text()); c.tok.Kind {
	case TokNumber:
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return x, false // 1.5, 1e3: MariaDB rounds them; the caller need not match them
		}
		x.FormatID = n
	case TokHex:
		b, ok := literalBytes(c.tz.q, c.tok)
		if !ok || len(b) > 8 {
			return x, false
		}
		x.FormatID = 0
		for _, d := range b {
			x.FormatID = x.FormatID<<8 | uint64(d)
		}
	default:
		return x, false
	}
	c.advance()
	return x, true
}

// xidPart reads a gtrid or bqual: a string without introducer, a hex or a bit literal.
func xidPart(c *cursor) (string, bool) {
	var v string
	switch c.tok.Kind {
	case TokString:
		if q := c.tz.q[c.tok.Start]; q != '\'' && q != '"' {
			return "", false // N'..', _charset'..': MariaDB refuses an introducer here
		}
		var ok bool
		if v, ok = unquoteString(c.tz.q, c.tok, c.tz.Options()); !ok {
			return "", false
		}
	case TokHex, TokBit:
		b, ok := literalBytes(c.tz.q, c.tok)
		if !ok {
			return "", false
		}
		v = string(b)
	default:
		return "", false
	}
	c.advance()
	return v, true
}

// literalBytes returns the bytes of a hex (X'0F', 0x0F) or bit (B'01', 0b01) literal, padded
// on the left to whole bytes as MariaDB pads them.
func literalBytes(q []byte, t Token) ([]byte, bool) {
	s := q[t.Start:t.End]
	var digits []byte
	switch {
	case len(s) >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'b'):
		digits = s[2:]
	case len(s) >= 3 && s[1] == '\'' && s[len(s)-1] == '\'':
		digits = s[2 : len(s)-1]
	default:
		return nil, false
	}
	if t.Kind == TokHex {
		d := string(digits)
		if len(d)%2 == 1 {
			d = "0" + d
		}
		b, err := hex.DecodeString(d)
		return b, err == nil
	}
	out := make([]byte, (len(digits)+7)/8)
	for i, d := range digits {
		if d != '0' && d != '1' {
			return nil, false
		}
		bit := len(digits) - 1 - i
		if d == '1' {
			out[len(out)-1-bit/8] |= 1 << (bit % 8)
		}
	}
	return out, true
}
