package grpcvtgate

// Call credentials as Vitess's static gRPC auth sends them (go/vt/grpcclient/client_auth_static.go):
// every call carries "username" and "password" metadata. The Debezium connector and Vitess's Go
// client both use this form.

import (
	"context"
	"crypto/subtle"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Authenticator returns the password of a gateway user (the same users as the MySQL listener).
type Authenticator interface {
	Password(user string) (password string, ok bool)
}

type userKey struct{}

// UserFromContext returns the user a call authenticated as ("" without authentication).
func UserFromContext(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}

// check verifies the call's credentials and returns ctx carrying the user.
func check(ctx context.Context, a Authenticator) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var user, pass string
	if v := md.Get("username"); len(v) > 0 {
		user = v[0]
	}
	if v := md.Get("password"); len(v) > 0 {
		pass = v[0]
	}
	want, ok := a.Password(user)
	if user == "" || !ok || subtle.ConstantTimeCompare([]byte(want), []byte(pass)) != 1 {
		return nil, status.Errorf(codes.Unauthenticated, "vtdirect: access denied for user %q: send username and password call credentials", user)
	}
	return context.WithValue(ctx, userKey{}, user), nil
}

// ServerOptions returns the options a gateway's gRPC server needs: the vtprotobuf codec and,
// when a is not nil, the interceptors that enforce call credentials (nil a allows every call).
// Pass them to grpc.NewServer.
func ServerOptions(a Authenticator) []grpc.ServerOption {
	if a == nil {
		return []grpc.ServerOption{codecOption()}
	}
	unary := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		ctx, err := check(ctx, a)
		if err != nil {
			return nil, err
		}
		return h(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		ctx, err := check(ss.Context(), a)
		if err != nil {
			return err
		}
		return h(srv, &authStream{ServerStream: ss, ctx: ctx})
	}
	return []grpc.ServerOption{codecOption(), grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream)}
}

// authStream carries the authenticated context into a streaming handler.
type authStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *authStream) Context() context.Context { return s.ctx }
