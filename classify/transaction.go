package classify

// classifyTransaction reads BEGIN, START, COMMIT, ROLLBACK, SAVEPOINT and RELEASE
// (https://mariadb.com/kb/en/transactions/).
func classifyTransaction(c *cursor) Statement {
	verb := c.kw
	c.advance()
	switch verb {
	case kwBegin:
		if c.is(kwNot) {
			return Statement{Kind: KindCompound, Flags: Compound} // BEGIN NOT ATOMIC
		}
		c.accept(kwWork)
		if !c.done() {
			return Statement{}
		}
		return Statement{Kind: KindBegin, ReadOnly: true}
	case kwStart:
		switch c.kw {
		case kwTransaction:
			c.advance()
			return startTransaction(c)
		case kwSlave, kwReplica, kwAll:
			return adminStatement(reasonReplication)
		}
		return Statement{}
	case kwCommit:
		return endTransaction(c, KindCommit)
	case kwRollback:
		c.accept(kwWork)
		if c.accept(kwTo) {
			c.accept(kwSavepoint)
			return savepoint(c)
		}
		return endTransaction(c, KindRollback)
	case kwSavepoint:
		return savepoint(c)
	case kwRelease:
		if c.accept(kwSavepoint) {
			return savepoint(c)
		}
	}
	return Statement{}
}

// startTransaction reads START TRANSACTION's characteristics. A read-only server refuses
// READ WRITE.
func startTransaction(c *cursor) Statement {
	st := Statement{Kind: KindBegin, ReadOnly: true}
	for !c.done() {
		switch {
		case c.accept(kwRead):
			switch {
			case c.accept(kwOnly):
				st.Tx |= TxReadOnly
			case c.accept(kwWrite):
				st.Tx |= TxReadWrite
				st.ReadOnly = false
			default:
				return Statement{}
			}
		case c.accept(kwWith):
			if !c.accept(kwConsistent) || !c.accept(kwSnapshot) {
				return Statement{}
			}
			st.Tx |= TxConsistentSnapshot
		default:
			return Statement{}
		}
		if !c.acceptKind(TokComma) && !c.done() {
			return Statement{}
		}
	}
	return st
}

// endTransaction reads COMMIT | ROLLBACK [WORK] [AND [NO] CHAIN] [[NO] RELEASE].
func endTransaction(c *cursor, kind Kind) Statement {
	st := Statement{Kind: kind, ReadOnly: true}
	c.accept(kwWork)
	if c.accept(kwAnd) {
		no := c.accept(kwNo)
		if !c.accept(kwChain) {
			return Statement{}
		}
		if !no {
			st.Flags |= Chain
		}
	}
	no := c.accept(kwNo)
	if c.accept(kwRelease) {
		if no {
			st.Flags |= NoRelease
		} else {
			st.Flags |= Release
		}
	} else if no {
		return Statement{}
	}
	if !c.done() {
		return Statement{}
	}
	return st
}

func savepoint(c *cursor) Statement {
	name, ok := identName(c.tz.q, c.tok)
	if !ok {
		return Statement{}
	}
	c.advance()
	if !c.done() {
		return Statement{}
	}
	return Statement{Kind: KindSavepoint, Name: name, ReadOnly: true}
}
