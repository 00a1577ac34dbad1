package classify

// cursor reads the tokens of one statement with one token of lookahead, for the parsers of
// leading keywords. Tokens at or after end read as TokEOF.
type cursor struct {
	tz  Tokenizer // its q is the query
	end int
	tok Token
	kw  keyword // the keyword of tok when it is a word
	bad bool    // a TokError was read: the statement is malformed
}

func newCursor(tz Tokenizer, end int) cursor {
	c := cursor{tz: tz, end: end}
	c.advance()
	return c
}

func (c *cursor) advance() {
	t := c.tz.Next()
	switch {
	case t.Kind == TokError:
		c.bad = true
		t = Token{Kind: TokEOF, Start: c.end, End: c.end}
	case t.Kind != TokEOF && t.Start >= c.end:
		t = Token{Kind: TokEOF, Start: c.end, End: c.end}
	}
	c.tok = t
	c.kw = noKeyword
	if t.Kind == TokWord {
		c.kw = lookupKeyword(c.tz.q[t.Start:t.End])
	}
}

// done reports the end of the statement.
func (c *cursor) done() bool { return c.tok.Kind == TokEOF || c.tok.Kind == TokSemicolon }

func (c *cursor) is(k keyword) bool { return c.kw == k }

// accept moves past the current token if it is the keyword k.
func (c *cursor) accept(k keyword) bool {
	if c.kw == k {
		c.advance()
		return true
	}
	return false
}

// acceptKind moves past the current token if it has kind k.
func (c *cursor) acceptKind(k TokenKind) bool {
	if c.tok.Kind == k {
		c.advance()
		return true
	}
	return false
}

// acceptOp moves past the current token if it is the operator op.
func (c *cursor) acceptOp(op string) bool {
	if c.isOp(op) {
		c.advance()
		return true
	}
	return false
}

func (c *cursor) isOp(op string) bool {
	return c.tok.Kind == TokOp && string(c.text()) == op
}

func (c *cursor) text() []byte { return c.tz.q[c.tok.Start:c.tok.End] }

// peek returns the token after the current one.
func (c *cursor) peek() (Token, keyword) {
	d := *c
	d.advance()
	return d.tok, d.kw
}

// skipToEnd moves to the end of the statement.
func (c *cursor) skipToEnd() {
	for !c.done() {
		c.advance()
	}
}

// skipParens moves past a parenthesised group starting at the current '('.
func (c *cursor) skipParens() {
	depth := 0
	for !c.done() {
		switch c.tok.Kind {
		case TokLParen:
			depth++
		case TokRParen:
			depth--
			if depth <= 0 {
				c.advance()
				return
			}
		}
		c.advance()
	}
}

// skipUser moves past a user or role name: 'u'@'h', `u`@`h`, u@h, CURRENT_USER[()], a role.
func (c *cursor) skipUser() {
	if c.done() {
		return
	}
	name := c.tok
	c.advance()
	if c.tok.Kind == TokUserVar && c.tok.Start == name.End {
		c.advance() // the @host part, read as a variable by the tokenizer
	} else if c.isOp("@") {
		c.advance()
		c.advance()
	} else if c.tok.Kind == TokLParen { // CURRENT_USER()
		c.skipParens()
	}
}
