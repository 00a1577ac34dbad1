package topotest

// Option adapts the suite to what a backend promises.
type Option func(*options)

type options struct {
	coalescedWatch bool
}

// CoalescedWatch says that the backend's WatchRecursive may coalesce changes that land close
// together (Consul: blocking queries return the current state, there is no history). The
// suite then checks that every change is delivered in order when changes are spaced (each
// one seen before the next is made), and that a burst converges: versions of a file only go
// up, every item is a state the file really had, and every file's last state arrives.
// Without it, a burst must arrive change by change (etcd, memory).
func CoalescedWatch() Option { return func(o *options) { o.coalescedWatch = true } }
