// Package grpcvtgate is vtdirect's gRPC face: it implements Vitess's vtgateservice.Vitess
// service, handing VStream to the vstream package and Execute to an Executor (the router), so
// that neither of those imports the other. Methods it does not serve answer Unimplemented.
//
// Call credentials (the "username"/"password" metadata of Vitess's static gRPC auth) are
// checked by the interceptors of ServerOptions against the gateway's users.
//
// Example:
//
//	srv := grpc.NewServer(grpcvtgate.ServerOptions(users)...)
//	vtgateservice.RegisterVitessServer(srv, grpcvtgate.New(grpcvtgate.Config{VStream: mgr, Executor: router}))
//	go srv.Serve(lis)
package grpcvtgate
