package topo

import "crypto/tls"

// Option configures how Open and DialEtcd reach a topo server.
type Option func(*openOptions)

type openOptions struct {
	tls *tls.Config
}

// WithTLS makes the etcd clients use TLS (Vitess's --topo-etcd-tls-ca, --topo-etcd-tls-cert,
// --topo-etcd-tls-key): RootCAs verify the servers, Certificates is the client certificate.
func WithTLS(c *tls.Config) Option { return func(o *openOptions) { o.tls = c } }

func options(opts []Option) openOptions {
	var o openOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}
