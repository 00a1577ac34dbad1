package classify

// header finds where the body of a stored program starts
// (https://mariadb.com/kb/en/create-procedure/, create-function/, create-trigger/,
// create-event/): after a procedure's parameters and characteristics, a function's RETURNS
// type and characteristics, a trigger's FOR EACH ROW [FOLLOWS | PRECEDES t], an event's DO.
type header struct {
	routine routineKind
	state   hstate
	depth   int // parentheses
}

type hstate uint8

const (
	hsName           hstate = iota // before the parameter list (the trigger's and event's whole header)
	hsParams                       // inside the parameter list
	hsReturns                      // a function after its parameters: RETURNS
	hsTypeName                     // RETURNS: the type's first word
	hsType                         // the rest of the type
	hsTypeArg                      // CHARACTER SET x, CHARSET x, COLLATE x: the x
	hsCharacteristic               // characteristics, then the body
	hsSkipOne                      // COMMENT 'x': the 'x'
	hsEach                         // trigger: FOR, EACH
	hsRow                          // trigger: FOR EACH, ROW
	hsOrder                        // trigger: FOLLOWS | PRECEDES may follow
	hsOrderName                    // trigger: the other trigger
	hsBody                         // the body has started
	hsNoBody                       // a function without a body (CREATE FUNCTION f RETURNS ... SONAME), an ALTER EVENT without DO
)

// feed reads the next token of the header; body reports that this token is the body's first.
func (h *header) feed(t Token, kw keyword, colon bool) (body bool) {
	switch t.Kind {
	case TokLParen:
		h.depth++
	case TokRParen:
		h.depth--
	}
	switch h.state {
	case hsName:
		switch h.routine {
		case routineProcedure, routineFunction:
			if t.Kind == TokLParen && h.depth == 1 {
				h.state = hsParams
			} else if kw == kwReturns && h.routine == routineFunction {
				h.state = hsNoBody // a loadable function: CREATE FUNCTION f RETURNS STRING SONAME 'x'
			}
		case routineTrigger:
			if kw == kwFor && h.depth == 0 {
				h.state = hsEach
			}
		case routineEvent:
			if kw == kwDo && h.depth == 0 {
				h.state = hsBody
				return false // the body starts after DO
			}
		}
	case hsParams:
		if h.depth == 0 {
			if h.routine == routineFunction {
				h.state = hsReturns
			} else {
				h.state = hsCharacteristic
			}
		}
	case hsReturns:
		if kw == kwReturns {
			h.state = hsTypeName
		} else {
			h.state = hsNoBody // not a function MariaDB knows: the statement ends at its ';'
		}
	case hsTypeName:
		h.state = hsType
	case hsType:
		if h.depth > 0 || t.Kind == TokRParen || t.Kind == TokLParen {
			return false
		}
		if colon {
			h.state = hsBody // a label: the body starts with the label
			return false
		}
		switch kw {
		case kwCharacter, kwCharset, kwCollate:
			h.state = hsTypeArg
			return false
		case kwUnsigned, kwSigned, kwZerofill, kwBinary, kwAscii, kwUnicode, kwByte, kwPrecision,
			kwVarchar, kwVarbinary, kwChar, kwVarying:
			return false
		}
		h.state = hsCharacteristic
		return h.characteristic(t, kw)
	case hsTypeArg:
		if kw != kwSet { // CHARACTER SET x: the x follows
			h.state = hsType
		}
	case hsCharacteristic:
		return h.characteristic(t, kw)
	case hsSkipOne:
		h.state = hsCharacteristic
	case hsEach:
		if kw == kwEach {
			h.state = hsRow
		} else {
			h.state = hsName
		}
	case hsRow:
		if kw == kwRow {
			h.state = hsOrder
		} else {
			h.state = hsName
		}
	case hsOrder:
		if kw == kwFollows || kw == kwPrecedes {
			h.state = hsOrderName
			return false
		}
		h.state = hsBody
		return true
	case hsOrderName:
		h.state = hsBody
		return false
	}
	return false
}

// characteristic reads a procedure's or function's characteristic, or the body's first token.
func (h *header) characteristic(t Token, kw keyword) bool {
	switch kw {
	case kwComment:
		h.state = hsSkipOne
		return false
	case kwLanguage, kwSql, kwNot, kwDeterministic, kwContains, kwNo, kwReads, kwModifies, kwData,
		kwSecurity, kwDefiner, kwInvoker:
		return false
	}
	h.state = hsBody
	return true
}

// bodyNext reports whether the body starts with the token after the one just fed (after
// an event's DO, a trigger's FOLLOWS t, a label's ':').
func (h *header) bodyNext() bool { return h.state == hsBody }
