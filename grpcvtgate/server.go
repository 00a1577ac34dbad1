package grpcvtgate

import (
	"context"
	"log/slog"
	"net"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	querypb "vitess.io/vitess/go/vt/proto/query"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"
	vtrpcpb "vitess.io/vitess/go/vt/proto/vtrpc"

	"github.com/vtdirect/vtdirect/vstream"
)

// Executor runs one statement of an Execute call in the caller's session (the router), with
// the caller's user (its access rules) and host. Errors carrying a MySQL code should be
// *mysql.MyError; they reach the client in the ExecuteResponse's RPCError, as Vitess's vtgate
// reports them.
type Executor interface {
	ExecuteGRPC(ctx context.Context, user, host string, session *vtgatepb.Session, sql string, bindVars map[string]*querypb.BindVariable) (*querypb.QueryResult, *vtgatepb.Session, error)
}

// Access says whether a user may stream what a VStream request asks for (the router's
// access rules): nil, or the denial, sent as PERMISSION_DENIED.
type Access interface {
	CheckVStream(user, host string, req *vtgatepb.VStreamRequest) error
}

// Streamer serves VStream (vstream.Manager).
type Streamer interface {
	VStream(ctx context.Context, req *vtgatepb.VStreamRequest, send vstream.SendFunc) error
}

var _ Streamer = (*vstream.Manager)(nil)

// Config wires the service.
type Config struct {
	VStream  Streamer // nil: VStream answers Unimplemented
	Executor Executor // nil: Execute answers Unimplemented
	Access   Access   // nil: every authenticated caller may stream every keyspace
	Logger   *slog.Logger
}

// Server implements vtgateservice.VitessServer.
type Server struct {
	vtgateservice.UnimplementedVitessServer
	cfg Config
}

var _ vtgateservice.VitessServer = (*Server)(nil)

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg}
}

// VStream streams change events.
func (s *Server) VStream(req *vtgatepb.VStreamRequest, stream vtgateservice.Vitess_VStreamServer) error {
	if s.cfg.VStream == nil {
		return status.Error(codes.Unimplemented, "vtdirect: VStream is not enabled on this gateway")
	}
	ctx := stream.Context()
	if s.cfg.Access != nil {
		if err := s.cfg.Access.CheckVStream(UserFromContext(ctx), peerHost(ctx), req); err != nil {
			return status.Error(codes.PermissionDenied, err.Error())
		}
	}
	err := s.cfg.VStream.VStream(ctx, req, stream.Send)
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err // already a status: the client's own transport error from Send
	}
	code := vstream.CodeOf(err)
	s.cfg.Logger.Info("vstream ended", "code", code.String(), "err", err)
	return status.Error(grpcCode(code), err.Error())
}

// Execute runs one statement through the Executor.
func (s *Server) Execute(ctx context.Context, req *vtgatepb.ExecuteRequest) (*vtgatepb.ExecuteResponse, error) {
	if s.cfg.Executor == nil {
		return nil, status.Error(codes.Unimplemented, "vtdirect: Execute is not enabled on this gateway")
	}
	session := req.GetSession()
	if session == nil {
		session = &vtgatepb.Session{Autocommit: true}
	}
	q := req.GetQuery()
	if q == nil {
		return &vtgatepb.ExecuteResponse{Session: session, Error: &vtrpcpb.RPCError{
			Code: vtrpcpb.Code_INVALID_ARGUMENT, Message: "vtdirect: Execute without a query"}}, nil
	}
	qr, newSession, err := s.cfg.Executor.ExecuteGRPC(ctx, UserFromContext(ctx), peerHost(ctx), session, q.Sql, q.BindVariables)
	if newSession == nil {
		newSession = session
	}
	if err != nil {
		return &vtgatepb.ExecuteResponse{Session: newSession, Error: rpcError(err)}, nil
	}
	return &vtgatepb.ExecuteResponse{Session: newSession, Result: qr}, nil
}

// peerHost is the caller's address without its port ("%" when unknown).
func peerHost(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "%"
	}
	a := p.Addr.String()
	if h, _, err := net.SplitHostPort(a); err == nil {
		return h
	}
	return a
}

// grpcCode maps a vtrpc code to gRPC's (Vitess defines them with the same numbers).
func grpcCode(c vtrpcpb.Code) codes.Code { return codes.Code(c) }
