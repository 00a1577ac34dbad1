package tabletserver

import (
	"encoding/binary"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The reply parser's cost per reply, without the network: what status following, status
// rewriting and session tracking add to each query.

// BenchmarkReplyPointSelect follows a point select's reply (two columns, one row, the final OK
// of DEPRECATE_EOF): the parser reads the column count and the final OK, and counts the rest.
func BenchmarkReplyPointSelect(b *testing.B) {
	packets := [][]byte{{2}, []byte("def-id"), []byte("def-v"), []byte("\x0242\x03abc"), okWithState(hdrEOF, mysql.SERVER_STATUS_AUTOCOMMIT, nil)}
	benchReply(b, packets, nil)
}

// BenchmarkReplyTrackedSet follows the OK of a SET autocommit=0 whose session state (the
// variable) the parser records and strips for a client that did not negotiate session
// tracking: the OK is rewritten.
func BenchmarkReplyTrackedSet(b *testing.B) {
	entry := appendLenEncString(appendLenEncString(nil, "autocommit"), "OFF")
	state := append([]byte{trackSystemVariables}, appendLenEncString(nil, string(entry))...)
	packets := [][]byte{okWithState(hdrOK, mysql.SERVER_SESSION_STATE_CHANGED, state)}
	p := benchReply(b, packets, nil)
	if !p.rewrote || len(p.track.vars) != 1 {
		b.Fatalf("rewrote %v, vars %v", p.rewrote, p.track.vars)
	}
}

func benchReply(b *testing.B, packets [][]byte, filter TrackFilter) *replyParser {
	var p replyParser
	b.ReportAllocs()
	for b.Loop() {
		p.reset(replyQuery, true, false, filter)
		for _, pk := range packets {
			if p.whole(pk[0], len(pk)) {
				if err := p.feed(pk); err != nil {
					b.Fatal(err)
				}
			} else {
				p.skip()
			}
		}
		if !p.done() {
			b.Fatal("reply not done")
		}
	}
	return &p
}

// okPayload is an OK (header 0x00, or 0xFE ending rows) with no affected rows and no insert id,
// the status, no warnings, and the session-state block when state is not nil.
func okWithState(header byte, status uint16, state []byte) []byte {
	b := []byte{header, 0, 0}
	b = binary.LittleEndian.AppendUint16(b, status)
	b = append(b, 0, 0)
	if state != nil {
		b = append(b, 0) // empty info
		b = appendLenEncString(b, string(state))
	}
	return b
}

func appendLenEncString(b []byte, s string) []byte {
	return append(appendLenEnc(b, uint64(len(s))), s...)
}
