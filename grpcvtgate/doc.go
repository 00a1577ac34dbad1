// Package grpcvtgate is vtdirect's gRPC face: it implements Vitess's vtgateservice.Vitess
// service, handing VStream to the vstream package and Execute to an Executor (the router), so
// that neither of those imports the other. Methods it does not serve answer Unimplemented.
//
// Example:
//
//	srv := grpc.NewServer()
//	vtgateservice.RegisterVitessServer(srv, grpcvtgate.New(grpcvtgate.Config{VStream: mgr, Executor: router}))
//	go srv.Serve(lis)
package grpcvtgate
