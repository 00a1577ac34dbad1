// Command bench is `make bench`: point selects by primary key against MariaDB directly, through
// a plain TCP relay and through the vtdirect gateway, in one run, at 1 and 16 client
// connections, with QPS, p50/p99 latency and the CPU time per query of every serving process;
// then VStream through the gateway: row events/s of a burst and commit-to-client latency.
//
// Why three targets: on small shared machines a system call is expensive, so any proxy process
// adds tens of microseconds per query and as much CPU as MariaDB spends on the query itself.
// The relay (bench/relay.go: io.Copy both ways, nothing else) is the floor for any proxy; the
// gateway is judged by its ratios to the relay, not by absolute numbers.
//
// What runs where:
//   - MariaDB (one primary tablet, started with local.StartCluster on free ports) is a child
//     process of bench; so is etcd's data, but etcd itself runs inside bench (it is idle).
//   - The relay is this same binary re-executed with the hidden argument `relay`, so its CPU
//     time is its own in /proc/<pid>/stat. io.Copy between TCP connections splices on Linux;
//     the optional target relay-rw copies with read/write instead (measured: no cheaper).
//   - The gateway is always the real `vtdirect serve`, built into a temp dir (or --vtdirect),
//     as its own process, with its MySQL, gRPC and HTTP ports on free ports.
//
// --cpuprofile FILE takes the gateway's CPU profile from its HTTP /debug/pprof/profile: one
// request of ceil(--duration) seconds per measured gateway run, sent when the run's measured
// interval begins (after the Go client's warm-up), so the profile holds the measured load and
// not the warm-up, the other targets' runs or idle time. The parts of all gateway runs (every
// load, connection count and round) are merged with `go tool pprof -proto` into FILE, and
// `go tool pprof -top -nodecount=25 FILE` is printed at the end. To profile a single load,
// narrow the matrix: --loads go --conns 16 --rounds 1.
//
// Loads: a Go client (go-sql-driver/mysql, interpolateParams=true, one dedicated connection per
// worker, every latency kept, so p50/p99 are exact) and sysbench oltp_point_select with
// --db-ps-mode=disable (COM_QUERY) and auto (server-side prepared statements), whose p50/p99
// come from its latency histogram (buckets about 2% wide).
//
// CPU per query is the delta of utime+stime (/proc/<pid>/stat, in USER_HZ=100 ticks) over the
// measured interval divided by the queries done in it; the client's own CPU is reported too,
// since on two cores the client, the proxy and MariaDB compete for the same CPUs.
//
// VStream (--vstream, on by default; bench/vstream.go) runs after the query matrix on the same
// gateway: a Go gRPC client (vtgateservice.NewVitessClient with username/password call
// credentials) streams one shard through `vtdirect serve`'s gRPC port. Burst: --vstream-rows
// single-row insert transactions are written straight to MariaDB first, then streamed from
// the position before them --vstream-rounds times (row events/s from the VStream call to the
// last row; the median counts). Latency: a stream from "current" while four connections insert
// single-row transactions at --vstream-rate per second for --vstream-duration (after one
// unmeasured warm-up row; four, so that a commit's fsync longer than the interval does not
// lower the rate); a row's latency runs from its INSERT's OK at the inserting client
// (autocommit: the COMMIT returned) to the arrival of the response with its ROW and COMMIT at
// the streaming client, 0 when the event came first; the figure from just before the INSERT
// was sent is shown as an upper bound, and the COMMIT's current_time (stamped when the gateway
// read the commit) splits it into MariaDB+gateway-read and gateway-send+client. CPU per event
// is the gateway's (and MariaDB's, the client's) /proc CPU time over the run divided by the row
// events. Each of the --vstream-latency-rounds (3) latency runs is followed by the floor's
// (bench/vstream_floor.go): the same inserts read by a raw binlog dump client of the bench's
// own, no gateway, from the OK to the read of the transaction's XID event; the report shows
// both (medians of the rounds' percentiles) and what the gateway adds, with MariaDB's
// sync_binlog and innodb_flush_log_at_trx_commit. --vstream-cpuprofile PREFIX writes the
// gateway's profiles of both parts; --vstream-latency-csv FILE writes every latency sample
// (FILE.floor the floor's); --vstream-trace PREFIX writes execution traces of the first latency
// round, the gateway's and the bench's own (go tool trace). --gateway-flags and --gateway-env
// pass serve flags and environment variables to the gateway (e.g.
// --vstream-private-binlog-dumps, GOMAXPROCS=1); --vstream-mariadb-globals sets MariaDB globals
// before the latency runs (e.g. innodb_flush_log_at_trx_commit=2).
//
// Fidelity (--vstream-fidelity, on by default; bench/vstream_fidelity.go): the burst again with
// an ALTER TABLE ADD COLUMN half-way (row events/s across a DDL), one --vstream-big-tx-mib
// (200) MiB transaction and the copy of a --vstream-keyless-rows (1,000,000) row table with no
// key, each streamed to a client with grpc-go's default 4 MiB message limit while the
// gateway's VmRSS is sampled every 50 ms: the figures are its RSS before and at peak and the
// largest response. The local servers log binlog_row_metadata=FULL (local.binlogOptions).
//
// The whole matrix (loads x targets x connection counts) runs --rounds times, interleaved, and
// the table shows the median of each figure with the QPS range, because a shared machine's
// noise is larger than the differences being measured. Defaults: 3 rounds of 3 s runs, about
// three minutes in all, plus about half a minute of VStream. Examples:
//
//	make bench
//	make bench BENCH_FLAGS="--rounds 1 --loads go"
//	go run ./bench --cpuprofile /tmp/gw.pprof --rounds 1 --loads go --conns 16
//	go run ./bench --targets direct,relay,relay-rw,gateway
//	go run ./bench --loads go --conns 1 --rounds 1 --targets gateway --vstream-cpuprofile /tmp/vs
//	go run ./bench --vstream=false
package main
