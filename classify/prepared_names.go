package classify

// maxTextDepth bounds how deep PreparedNames reads string literals inside string literals.
const maxTextDepth = 4

// PreparedNames lists (lower case, each once) the names of the SQL prepared statements a text
// may create when it runs, wherever a PREPARE name FROM stands in it: at the top, in a compound
// statement's body, or in a string literal that may run as text (EXECUTE IMMEDIATE, the text
// of a PREPARE that EXECUTE runs later, and so on, up to maxTextDepth levels of quoting). It
// reads the tokens only, so that it may list a name that never runs (inside a branch not
// taken, or a string that is only data): a caller that bounds the names gets an upper bound.
// A PREPARE names its statement with an identifier, never an expression, so that a loop
// prepares no name this does not list.
func PreparedNames(text []byte, opt Options) []string {
	var n nameSet
	n.read(text, opt, 0)
	return n.list
}

// nameSet is a list without repeats.
type nameSet struct {
	list []string
	seen map[string]struct{}
}

func (n *nameSet) add(name string) {
	if _, dup := n.seen[name]; dup {
		return
	}
	if n.seen == nil {
		n.seen = map[string]struct{}{}
	}
	n.seen[name] = struct{}{}
	n.list = append(n.list, name)
}

func (n *nameSet) read(q []byte, opt Options, depth int) {
	tz := NewTokenizer(q, opt)
	// state: 0 nothing, 1 after PREPARE, 2 after PREPARE name
	state, name := 0, ""
	for t := tz.Next(); t.Kind != TokEOF && t.Kind != TokError; t = tz.Next() {
		switch {
		case state == 1 && (t.Kind == TokWord || t.Kind == TokQuotedIdent):
			name, _ = identName(q, t)
			state = 2
			continue
		case state == 2 && t.Kind == TokWord && lookupKeyword(q[t.Start:t.End]) == kwFrom:
			n.add(lowerASCII(name))
		case t.Kind == TokString && depth < maxTextDepth:
			if s, ok := unquoteString(q, t, opt); ok {
				n.read([]byte(s), opt, depth+1)
			}
		}
		state = 0
		if t.Kind == TokWord && lookupKeyword(q[t.Start:t.End]) == kwPrepare {
			state = 1
		}
	}
}
