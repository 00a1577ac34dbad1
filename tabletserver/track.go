package tabletserver

// Session tracking: every backend connection negotiates CLIENT_SESSION_TRACK and tracks every
// system variable, the schema and state changes, so that each OK says exactly what the
// statement changed in the session. The forwarder records that for the router and gives the
// client only what it would get from MariaDB directly: nothing without CLIENT_SESSION_TRACK,
// otherwise what its own session_track_* settings ask for.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html
// https://mariadb.com/kb/en/ok_packet/

import (
	"encoding/binary"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Session-state information types (enum_session_state_type).
const (
	trackSystemVariables   = 0
	trackSchema            = 1
	trackStateChange       = 2
	trackGTIDs             = 3
	trackTxCharacteristics = 4
	trackTxState           = 5
)

// TrackFilter says which session-state information a client that negotiated
// CLIENT_SESSION_TRACK asked for (its own session_track_* settings). A nil TrackFilter means the
// client did not negotiate it: it gets none.
type TrackFilter interface {
	// WantsVar reports whether the client tracks the system variable.
	WantsVar(name string) bool
	// WantsSchema and WantsStateChange report session_track_schema and
	// session_track_state_change.
	WantsSchema() bool
	WantsStateChange() bool
}

// TrackedVar is a system variable session tracking reported changed.
type TrackedVar struct{ Name, Value string }

// trackState is what the OKs of one reply reported.
type trackState struct {
	filter TrackFilter
	vars   []TrackedVar
	// changed: SESSION_TRACK_STATE_CHANGE was reported; eofChanged: an EOF had
	// SERVER_SESSION_STATE_CHANGED (details, if any, come later).
	changed, eofChanged bool
	schema              string
	schemaChanged       bool
}

// trackOK reads the info string and the session-state information of an OK payload whose
// status has SERVER_SESSION_STATE_CHANGED, from offset pos (just after the warnings), records
// it, and writes into p.out the OK the client must get when that differs.
func (p *replyParser) trackOK(payload []byte, pos int, status uint16) error {
	info, n, ok := readLenEncString(payload[pos:])
	if !ok {
		return fmt.Errorf("%w: OK packet: truncated info", errProtocol)
	}
	statePos := pos + n
	block, _, ok := readLenEncString(payload[statePos:])
	if !ok {
		return fmt.Errorf("%w: OK packet: truncated session state", errProtocol)
	}
	t := &p.track
	keep := p.keep[:0]
	all := true
	for rest := block; len(rest) > 0; {
		typ := rest[0]
		data, k, ok := readLenEncString(rest[1:])
		if !ok {
			return fmt.Errorf("%w: OK packet: malformed session state entry", errProtocol)
		}
		entry := rest[:1+k]
		rest = rest[1+k:]
		want := false
		switch typ {
		case trackSystemVariables:
			name, nn, ok1 := readLenEncString(data)
			value, _, ok2 := readLenEncString(data[min(nn, len(data)):])
			if !ok1 || !ok2 {
				return fmt.Errorf("%w: OK packet: malformed system variable entry", errProtocol)
			}
			t.vars = append(t.vars, TrackedVar{Name: string(name), Value: string(value)})
			want = t.filter != nil && t.filter.WantsVar(string(name))
		case trackSchema:
			name, _, ok := readLenEncString(data)
			if !ok {
				return fmt.Errorf("%w: OK packet: malformed schema entry", errProtocol)
			}
			t.schema, t.schemaChanged = string(name), true
			// The gateway tells clients their schema (the target) itself: a backend database
			// name is not the client's.
		case trackStateChange:
			t.changed = true
			want = t.filter != nil && t.filter.WantsStateChange()
		default:
			// GTIDs and transaction information follow the client's own settings, which the
			// backend connection has: pass them through.
			want = t.filter != nil
		}
		if want {
			keep = append(keep, entry...)
		} else {
			all = false
		}
	}
	p.keep = keep
	if all && t.filter != nil {
		return nil // the client gets the packet as it is
	}
	// The OK without what the client does not get: as MariaDB writes it, the info string is
	// there only when it is not empty or state information follows.
	out := append(p.out[:0], payload[:pos]...)
	if len(keep) == 0 {
		binary.LittleEndian.PutUint16(out[pos-4:], status&^mysql.SERVER_SESSION_STATE_CHANGED)
		if len(info) > 0 {
			out = appendLenEnc(out, uint64(len(info)))
			out = append(out, info...)
		}
	} else {
		out = appendLenEnc(out, uint64(len(info)))
		out = append(out, info...)
		out = appendLenEnc(out, uint64(len(keep)))
		out = append(out, keep...)
	}
	p.out = out
	p.rewrote = true
	return nil
}
