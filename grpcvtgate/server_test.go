package grpcvtgate

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"
	vtrpcpb "vitess.io/vitess/go/vt/proto/vtrpc"

	"github.com/vtdirect/vtdirect/vstream"
)

type fakeExec struct{}

func (fakeExec) ExecuteGRPC(ctx context.Context, _, _ string, s *vtgatepb.Session, sql string, bv map[string]*querypb.BindVariable) (*querypb.QueryResult, *vtgatepb.Session, error) {
	if sql == "bad" {
		return nil, s, mysql.NewError(mysql.ER_NO_SUCH_TABLE, "Table 'x' doesn't exist")
	}
	return &querypb.QueryResult{RowsAffected: 1}, &vtgatepb.Session{TargetString: s.TargetString + "!"}, nil
}

type fakeStream struct{ err error }

func (f fakeStream) VStream(ctx context.Context, req *vtgatepb.VStreamRequest, send vstream.SendFunc) error {
	if err := send(&vtgatepb.VStreamResponse{Events: []*binlogdatapb.VEvent{{Type: binlogdatapb.VEventType_OTHER}}}); err != nil {
		return err
	}
	return f.err
}

func dial(t *testing.T, cfg Config) vtgateservice.VitessClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(ServerOptions(nil)...)
	vtgateservice.RegisterVitessServer(srv, New(cfg))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return vtgateservice.NewVitessClient(cc)
}

func TestExecute(t *testing.T) {
	c := dial(t, Config{Executor: fakeExec{}})
	ctx := context.Background()
	r, err := c.Execute(ctx, &vtgatepb.ExecuteRequest{Session: &vtgatepb.Session{TargetString: "ks"}, Query: &querypb.BoundQuery{Sql: "ok"}})
	if err != nil || r.Error != nil || r.Result.RowsAffected != 1 || r.Session.TargetString != "ks!" {
		t.Fatalf("Execute ok = %v, %v", r, err)
	}
	r, err = c.Execute(ctx, &vtgatepb.ExecuteRequest{Query: &querypb.BoundQuery{Sql: "bad"}})
	if err != nil || r.Error == nil || r.Error.Code != vtrpcpb.Code_INVALID_ARGUMENT || r.Error.Message != "Table 'x' doesn't exist (errno 1146) (sqlstate 42S02)" {
		t.Fatalf("Execute bad = %v, %v", r, err)
	}
	if _, err := dial(t, Config{}).Execute(ctx, &vtgatepb.ExecuteRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("no executor: %v", err)
	}
}

func TestVStreamErrors(t *testing.T) {
	tests := []struct {
		err  error
		want codes.Code
	}{
		{&vstream.Error{Code: vtrpcpb.Code_FAILED_PRECONDITION, Err: errors.New("purged")}, codes.FailedPrecondition},
		{&vstream.FilterError{Rule: "r", Reason: "x"}, codes.InvalidArgument},
		{errors.New("boom"), codes.Unavailable},
	}
	for _, tt := range tests {
		c := dial(t, Config{VStream: fakeStream{err: tt.err}})
		s, err := c.VStream(context.Background(), &vtgatepb.VStreamRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := s.Recv(); err != nil || r.Events[0].Type != binlogdatapb.VEventType_OTHER {
			t.Fatalf("first response %v, %v", r, err)
		}
		_, err = s.Recv()
		if status.Code(err) != tt.want {
			t.Errorf("%v: got %v, want %v", tt.err, err, tt.want)
		}
	}
}

type users map[string]string

func (u users) Password(user string) (string, bool) { p, ok := u[user]; return p, ok }

type creds map[string]string

func (c creds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return c, nil
}
func (c creds) RequireTransportSecurity() bool { return false }

func TestAuth(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(ServerOptions(users{"app": "secret"})...)
	vtgateservice.RegisterVitessServer(srv, New(Config{Executor: fakeExec{}, VStream: fakeStream{}}))
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	tests := []struct {
		creds creds
		want  codes.Code
	}{
		{creds{"username": "app", "password": "secret"}, codes.OK},
		{creds{"username": "app", "password": "wrong"}, codes.Unauthenticated},
		{creds{}, codes.Unauthenticated},
	}
	for _, tt := range tests {
		cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(tt.creds))
		if err != nil {
			t.Fatal(err)
		}
		c := vtgateservice.NewVitessClient(cc)
		_, err = c.Execute(context.Background(), &vtgatepb.ExecuteRequest{Query: &querypb.BoundQuery{Sql: "ok"}})
		if status.Code(err) != tt.want {
			t.Errorf("Execute with %v: %v, want %v", tt.creds, err, tt.want)
		}
		s, err := c.VStream(context.Background(), &vtgatepb.VStreamRequest{})
		if err == nil {
			_, err = s.Recv()
		}
		if status.Code(err) != tt.want {
			t.Errorf("VStream with %v: %v, want %v", tt.creds, err, tt.want)
		}
		cc.Close()
	}
}
