package tabletserver

// A command sent now and its reply read later: what lets the router put one statement on
// several shards' connections from the session's goroutine, so that the backends work at
// once before any reply is read, with no goroutine started to write.

import (
	"context"
	"io"
)

// sentCommand is the command Send wrote whose reply Receive has not read yet.
type sentCommand struct {
	req        *Request
	cmd        byte
	kind       replyKind
	sw, setOpt int
	ok         bool
}

// Send writes a client's command as Exec does (req.Pre, the multi-statement switch, the
// schema switch first; a schema switch that a command not req.Pipeline waits for is read
// here) and returns without reading its reply; Receive reads the reply and
// forwards it to w. Between the two the backend runs the command: the caller may Send on
// other connections meanwhile. req must stay unchanged until Receive returns, and nothing
// else may use the connection in between. A Send that fails needs no Receive: its error is
// the one Exec would have returned, and the connection is handled as after Exec.
func (c *Conn) Send(ctx context.Context, req *Request) error {
	frame := req.Frame
	if len(frame) < 5 {
		return stmtOnly(errMalformed("command: no command byte"))
	}
	cmd := frame[4]
	kind, ok := replyKindOf(cmd)
	if !ok {
		return stmtOnly(errUnsupportedCommand(cmd))
	}
	if err := c.open(ctx); err != nil {
		return err
	}
	sw, setOpt, err := c.write(req, nil)
	if err != nil {
		_, err = c.complete(cmd, Result{}, err)
		return err
	}
	c.sent = sentCommand{req: req, cmd: cmd, kind: kind, sw: sw, setOpt: setOpt, ok: true}
	return nil
}

// Receive reads the reply of the command Send wrote, as Exec does: the same Result and
// errors.
func (c *Conn) Receive(w io.Writer) (Result, error) {
	s := c.sent
	if !s.ok {
		return Result{}, stmtOnly(errMalformed("Receive without a Send"))
	}
	c.sent = sentCommand{}
	res, err := c.readReplies(s.kind, s.req, s.sw, s.setOpt, w)
	return c.complete(s.cmd, res, err)
}
