package mysqlserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	driver "github.com/go-sql-driver/mysql"
)

// fakeHandler is a tiny Handler for component tests of the protocol layer.
type fakeHandler struct {
	mu        sync.Mutex
	conns     map[uint32]*Conn // open connections by id
	closed    []uint32         // ids given to ConnectionClosed
	stmtClose []uint32         // statement ids given to ComStmtClose
	executes  [][]byte         // copies of normalised COM_STMT_EXECUTE payloads
	longData  [][][]byte       // per execute: copies of each parameter's long data (nil: none)
	resets    int
	initDB    []string
	changes   []string // per COM_CHANGE_USER: "user db" or "denied: message"
	infiles   []infile // what "load" queries received
	bigValue  []byte   // what "bigvalue" returns

	sleeping chan *Conn    // receives the conn of a "sleep" query once it blocks
	release  chan struct{} // closed to unblock "sleep" queries
	flooded  chan error    // receives the error that ended a "flood" query's writes
}

// infile is what a "load" query relayed: like a backend, it asked for a file and read the
// client's packets until the empty one.
type infile struct {
	bytes, packets, biggest int
	seqs                    []uint8
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{
		conns:    make(map[uint32]*Conn),
		sleeping: make(chan *Conn, 10),
		release:  make(chan struct{}),
		flooded:  make(chan error, 1),
	}
}

var _ Handler = (*fakeHandler)(nil)

func (h *fakeHandler) NewConnection(c *Conn) error {
	if c.User() == "refused" {
		return mysql.NewError(mysql.ER_DBACCESS_DENIED_ERROR, "vtdirect: refused by the handler")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns[c.ID()] = c
	return nil
}

func (h *fakeHandler) ConnectionClosed(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c.ID())
	h.closed = append(h.closed, c.ID())
}

func textField(name string) *Field {
	return &Field{Name: name, OrgName: name, Charset: 45, ColumnLength: 1024, Type: mysql.MYSQL_TYPE_VAR_STRING}
}

func (h *fakeHandler) ComQuery(c *Conn, cmd *Command) error {
	q := string(cmd.Payload()[1:])
	switch {
	case q == "select 1":
		return c.WriteResult(&Result{
			// The column MariaDB 10.11 describes for SELECT 1.
			Fields: []*Field{{Name: "1", Charset: 63, ColumnLength: 1, Type: mysql.MYSQL_TYPE_LONG, Flags: mysql.NOT_NULL_FLAG | mysql.BINARY_FLAG}},
			Rows:   [][][]byte{{[]byte("1")}},
			Status: mysql.SERVER_STATUS_AUTOCOMMIT,
		})
	case q == "whoami":
		attrs := c.Attributes()
		return c.WriteResult(&Result{
			Fields: []*Field{textField("user"), textField("db"), textField("collation"), textField("tls"), textField("client"), textField("plugin"), textField("id")},
			Rows: [][][]byte{{[]byte(c.User()), []byte(c.Database()), []byte(fmt.Sprint(c.Collation())),
				[]byte(fmt.Sprint(c.TLS())), []byte(attrs["_client_name"]), []byte(c.AuthPlugin()), []byte(fmt.Sprint(c.ID()))}},
		})
	case q == "nulls":
		return c.WriteResult(&Result{
			Fields: []*Field{textField("a"), textField("b"), textField("c")},
			Rows:   [][][]byte{{[]byte("x"), nil, []byte("")}, {nil, []byte("y"), nil}},
		})
	case q == "flood":
		// A one-column result whose rows never end, written through RawWriter as a forwarder
		// would: it stops only when a write fails.
		w := c.RawWriter()
		seq := uint8(1)
		b := []byte{1, 0, 0, seq, 1}
		seq++
		def := appendColumnDef(nil, textField("v"))
		b = append(b, byte(len(def)), byte(len(def)>>8), byte(len(def)>>16), seq)
		b = append(b, def...)
		seq++
		b = append(b, 5, 0, 0, seq, 0xfe, 0, 0, 2, 0)
		seq++
		row := make([]byte, 4+3+60000)
		n := 3 + 60000
		row[0], row[1], row[2] = byte(n), byte(n>>8), 0
		row[4], row[5], row[6] = 0xfc, byte(60000&0xff), byte(60000>>8)
		if _, err := w.Write(b); err != nil {
			h.flooded <- err
			return err
		}
		for {
			row[3] = seq
			seq++
			if _, err := w.Write(row); err != nil {
				h.flooded <- err
				return err
			}
		}
	case q == "fail":
		return c.WriteError(&mysql.MyError{Code: 1064, State: "42000", Message: "vtdirect: fake syntax error"})
	case q == "sleep":
		h.sleeping <- c
		<-h.release
		return c.WriteOK(0, 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
	case strings.HasPrefix(q, "big "):
		return c.WriteOK(uint64(len(q)), 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
	case strings.HasPrefix(q, "USE "):
		// As MariaDB answers USE: the new schema as session state.
		return c.WriteOKPacket(OKPacket{Status: mysql.SERVER_STATUS_AUTOCOMMIT, SessionState: AppendSessionStateSchema(nil, q[4:])})
	case q == "bigvalue":
		h.mu.Lock()
		v := h.bigValue
		h.mu.Unlock()
		return c.WriteResult(&Result{Fields: []*Field{{Name: "v", Charset: 63, Type: mysql.MYSQL_TYPE_LONG_BLOB}}, Rows: [][][]byte{{v}}})
	case q == "options":
		return c.WriteResult(&Result{
			Fields: []*Field{textField("multi"), textField("compressed"), textField("caps")},
			Rows:   [][][]byte{{[]byte(fmt.Sprint(c.MultiStatements())), []byte(fmt.Sprint(c.Compressed())), []byte(fmt.Sprint(c.Capabilities()))}},
		})
	case strings.HasPrefix(q, "idle "):
		ms, err := strconv.Atoi(q[5:])
		if err != nil {
			return c.WriteError(err)
		}
		c.SetIdleTimeout(time.Duration(ms) * time.Millisecond)
		return c.WriteOK(0, 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
	case strings.HasPrefix(q, "load "):
		return h.load(c, q[5:])
	}
	return c.WriteOK(1, 2, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
}

// load plays a backend's LOAD DATA LOCAL INFILE: it asks the client for the file (0xfb and
// the name) and reads its packets through ReadPacket until the empty one.
func (h *fakeHandler) load(c *Conn, name string) error {
	w := c.RawWriter()
	req := append([]byte{0xfb}, name...)
	if err := WritePacket(w, 1, req); err != nil {
		return err
	}
	var in infile
	for {
		frame, err := c.ReadPacket()
		if err != nil {
			return err
		}
		n := len(frame) - 4
		in.seqs = append(in.seqs, frame[3])
		if n == 0 {
			break
		}
		in.bytes += n
		in.packets++
		in.biggest = max(in.biggest, n)
	}
	h.mu.Lock()
	h.infiles = append(h.infiles, in)
	h.mu.Unlock()
	return c.WriteOK(uint64(in.bytes), 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
}

func (h *fakeHandler) ComInitDB(c *Conn, db string) error {
	h.mu.Lock()
	h.initDB = append(h.initDB, db)
	h.mu.Unlock()
	if db == "nope" {
		return c.WriteError(mysql.NewDefaultError(mysql.ER_BAD_DB_ERROR, db))
	}
	return c.WriteOK(0, 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
}

func (h *fakeHandler) ComFieldList(c *Conn, cmd *Command) error {
	return c.WriteEOF(0, 0)
}

func (h *fakeHandler) ComStatistics(c *Conn, cmd *Command) error {
	return c.WriteError(fmt.Errorf("statistics not served by the fake handler"))
}

// ComStmtPrepare: one parameter per '?', no result columns; "bad" fails; "SELECT ?, 1" is
// described as MariaDB 10.11 describes it.
func (h *fakeHandler) ComStmtPrepare(c *Conn, st *Stmt) error {
	if st.Query == "SELECT ?, 1" {
		param := &Field{Name: "?", Charset: 63, Type: mysql.MYSQL_TYPE_NULL, Flags: mysql.BINARY_FLAG}
		one := &Field{Name: "1", Charset: 63, ColumnLength: 1, Type: mysql.MYSQL_TYPE_LONG, Flags: mysql.NOT_NULL_FLAG | mysql.BINARY_FLAG}
		return c.WritePrepareOK(st, []*Field{param}, []*Field{param, one})
	}
	if strings.Contains(st.Query, "bad") {
		return c.WriteError(&mysql.MyError{Code: 1064, State: "42000", Message: "vtdirect: fake prepare error"})
	}
	var params []*Field
	for range strings.Count(st.Query, "?") {
		params = append(params, &Field{Name: "?", Charset: 63, Type: mysql.MYSQL_TYPE_VAR_STRING})
	}
	return c.WritePrepareOK(st, params, nil)
}

func (h *fakeHandler) ComStmtExecute(c *Conn, st *Stmt, cmd *Command) error {
	var long [][]byte
	if st.HasLongData() {
		long = make([][]byte, st.ParamCount)
		for i := range long {
			if d := st.LongData(i); d != nil {
				long[i] = append([]byte{}, d...)
			}
		}
	}
	h.mu.Lock()
	h.executes = append(h.executes, append([]byte(nil), cmd.Frame...))
	h.longData = append(h.longData, long)
	h.mu.Unlock()
	return c.WriteOK(0, 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
}

func (h *fakeHandler) ComStmtClose(c *Conn, st *Stmt) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stmtClose = append(h.stmtClose, st.ID)
}

func (h *fakeHandler) ComResetConnection(c *Conn) error {
	h.mu.Lock()
	h.resets++
	h.mu.Unlock()
	return c.WriteOK(0, 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
}

func (h *fakeHandler) ComChangeUser(c *Conn, denied *mysql.MyError) error {
	h.mu.Lock()
	if denied != nil {
		h.changes = append(h.changes, "denied: "+denied.Message)
	} else {
		h.changes = append(h.changes, c.User()+" "+c.Database())
	}
	h.mu.Unlock()
	if denied != nil {
		return c.WriteError(denied)
	}
	return c.WriteOK(0, 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
}

func (h *fakeHandler) lastExecute(t *testing.T) []byte {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.executes) == 0 {
		t.Fatal("no COM_STMT_EXECUTE reached the handler")
	}
	return h.executes[len(h.executes)-1]
}

// lastParams decodes the parameters of the last COM_STMT_EXECUTE, long data included.
func (h *fakeHandler) lastParams(t *testing.T, n int) []any {
	t.Helper()
	frame := h.lastExecute(t)
	h.mu.Lock()
	long := h.longData[len(h.longData)-1]
	h.mu.Unlock()
	return decodeParams(t, frame, n, long)
}

// testUsers are the users of every test server.
var testUsers = StaticAuth{"u": "p", "empty": "", "refused": "x"}

// startServer runs a Listener on 127.0.0.1:0 until the test ends; opts adjust it before
// it serves.
func startServer(t *testing.T, cfg Config, h Handler, opts ...func(*Listener)) *Listener {
	t.Helper()
	if cfg.Auth == nil && !cfg.InsecureNoAuth {
		cfg.Auth = testUsers
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewListener(cfg, ln, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(l)
	}
	done := make(chan error, 1) // Serve's result, read at cleanup
	go func() { done <- l.Serve() }()
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l
}

// openDB opens a go-sql-driver/mysql pool on l with one connection.
func openDB(t *testing.T, l *Listener, user, pass string, tweak func(*driver.Config)) *sql.DB {
	t.Helper()
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = user, pass, "tcp", l.Addr().String()
	cfg.Timeout = 10 * time.Second
	if tweak != nil {
		tweak(cfg)
	}
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// mysqlErr extracts the driver's server error.
func mysqlErr(t *testing.T, err error) *driver.MySQLError {
	t.Helper()
	var me *driver.MySQLError
	if err == nil {
		t.Fatal("want a MySQL error, got success")
	}
	if !errors.As(err, &me) {
		t.Fatalf("want a MySQL error, got %T: %v", err, err)
	}
	return me
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// selfSignedTLS returns a server TLS config with a fresh self-signed certificate, and the
// cert and key written as PEM files (for the mariadb CLI).
func selfSignedTLS(t *testing.T) (cfg *tls.Config, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}}, certFile, keyFile
}

// skipVerify is the client TLS config for the self-signed test certificate.
func skipVerify() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

// withFullAuth makes caching_sha2_password take the full-authentication path.
func withFullAuth(on bool) func(*Listener) { return func(l *Listener) { l.forceFullAuth = on } }
