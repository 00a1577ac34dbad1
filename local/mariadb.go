package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Binaries the launcher runs, and the Debian package that provides them.
const (
	mariadbdBin      = "mariadbd"
	installDBBin     = "mariadb-install-db"
	mariadbDebianPkg = "mariadb-server"
)

// The admin account's defaults (Vitess's name for it).
const (
	DefaultDBAUser     = "vt_dba"
	DefaultDBAPassword = "vt_dba"
)

// The replication and change-stream accounts of a LeastPrivilege server (Vitess's names:
// vttablet's --db-repl-user and --db-filtered-user).
const (
	DefaultReplUser         = "vt_repl"
	DefaultReplPassword     = "vt_repl"
	DefaultFilteredUser     = "vt_filtered"
	DefaultFilteredPassword = "vt_filtered"
)

// defaultStartTimeout bounds how long StartMariaDB waits for a new server to accept connections
// when the caller's context has no deadline.
const defaultStartTimeout = 60 * time.Second

// MariaDBConfig describes one MariaDB server run by the launcher.
type MariaDBConfig struct {
	// Dir holds everything of the instance: my.cnf, data/, binlogs, error.log, pid and socket.
	// Created if missing; an initialised Dir is reused (restart keeps the data).
	Dir string
	// Port is the TCP port on 127.0.0.1. 0 picks a free port (retried if another process takes
	// it first).
	Port int
	// ServerID is the unique replication server_id (the tablet uid in a cluster). Not 0.
	ServerID uint32
	// User and Password name the account created with every privilege (including replication)
	// on '%' and 'localhost', or with LeastPrivilege the data path's only. Replicas of a test
	// cluster use it to connect to their primary.
	User, Password string
	// Logger receives progress messages. nil discards them.
	Logger *slog.Logger
	// ExtraArgs are appended to mariadbd's command line (e.g. "--rpl_semi_sync_master_enabled=ON").
	ExtraArgs []string
	// DBAUser and DBAPassword name the admin account (vttablet's --db-dba-user): every
	// privilege, for replication and failover. Default vt_dba / vt_dba.
	DBAUser, DBAPassword string
	// FenceUser withholds READ_ONLY ADMIN from User, so that read_only stops its writes: how
	// failover fences a demoted primary. Clusters (and the demo) set it; a standalone server,
	// which boots read-only too, keeps User writable through read_only for its tests.
	FenceUser bool
	// LeastPrivilege gives User only the data path's privileges (AppPrivileges), on the
	// AppDatabases only: nothing on *.* (no SELECT on mysql.* or on other databases), no
	// SUPER, READ ONLY ADMIN, PROCESS, replication, binlog or user administration rights; what
	// it had beyond them is revoked. It creates ReplUser, the account replicas connect to their
	// primary with (REPLICATION SLAVE only), and FilteredUser, the change streams' (VStream:
	// FilteredPrivileges, that is REPLICATION SLAVE, BINLOG MONITOR and SLAVE MONITOR, since a
	// stream reads its replica source's status, and SELECT on the AppDatabases for the copy
	// phase). The admin DBAUser keeps every privilege: control (health probe, KILL QUERY),
	// failover and the accounts' administration. `vtdirect local up` sets it.
	LeastPrivilege bool
	// AppDatabases are the databases, as GRANT patterns (GrantDB of a name, or a pattern such
	// as SchemaDBPattern), that a LeastPrivilege server's User and FilteredUser may use: the
	// databases of the keyspaces the server holds. Required with LeastPrivilege.
	AppDatabases []string
	// ReplUser, FilteredUser and their passwords: default vt_repl / vt_repl and vt_filtered /
	// vt_filtered. Only with LeastPrivilege.
	ReplUser, ReplPassword         string
	FilteredUser, FilteredPassword string
	// Detached starts mariadbd in a new session so that it outlives this process (`vtdirect
	// local up`). Otherwise mariadbd gets its own process group and is killed if this process
	// dies (tests), so an interrupted test leaves no server behind.
	Detached bool
}

func (c *MariaDBConfig) validate() error {
	if c.DBAUser == "" {
		c.DBAUser, c.DBAPassword = DefaultDBAUser, DefaultDBAPassword
	}
	if c.ReplUser == "" {
		c.ReplUser, c.ReplPassword = DefaultReplUser, DefaultReplPassword
	}
	if c.FilteredUser == "" {
		c.FilteredUser, c.FilteredPassword = DefaultFilteredUser, DefaultFilteredPassword
	}
	switch {
	case c.Dir == "":
		return errors.New("MariaDBConfig.Dir is empty")
	case c.ServerID == 0:
		return errors.New("MariaDBConfig.ServerID must not be 0")
	case c.User == "":
		return errors.New("MariaDBConfig.User is empty")
	case c.User == "root" || c.DBAUser == "root":
		return errors.New("MariaDBConfig.User must not be root (root is kept for the unix socket)")
	case c.DBAUser != "" && c.DBAUser == c.User:
		return errors.New("MariaDBConfig.DBAUser must differ from User")
	case c.LeastPrivilege && len(c.AppDatabases) == 0:
		return errors.New("MariaDBConfig.AppDatabases is empty: with LeastPrivilege the app user may use only those databases")
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("MariaDBConfig.Port %d out of range", c.Port)
	}
	return nil
}

// MariaDB is one mariadbd process started by this process. Its methods are safe for concurrent
// use.
type MariaDB struct {
	cfg       MariaDBConfig // Port resolved; not changed after StartMariaDB
	autoPort  bool          // cfg.Port was 0: a lost bind race may pick another port
	log       *slog.Logger
	socket    string
	errorLog  string
	pidFile   string
	dataDir   string
	runAsRoot bool

	mu   sync.Mutex    // guards the fields below
	proc *os.Process   // nil when not running
	done chan struct{} // closed by the waiter goroutine when proc exits
}

// StartMariaDB initialises cfg.Dir if needed (mariadb-install-db), starts mariadbd, waits until
// it accepts connections and creates cfg.User. It fails with a message naming the Debian package
// when MariaDB is not installed.
func StartMariaDB(ctx context.Context, cfg MariaDBConfig) (*MariaDB, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("start mariadb: %w", err)
	}
	if err := CheckMariaDBInstalled(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("start mariadb: %w", err)
	}
	cfg.Dir = dir
	m := &MariaDB{
		cfg:       cfg,
		autoPort:  cfg.Port == 0,
		log:       cfg.Logger,
		socket:    socketPath(dir),
		errorLog:  filepath.Join(dir, errorLogName),
		pidFile:   filepath.Join(dir, pidFileName),
		dataDir:   filepath.Join(dir, dataDirName),
		runAsRoot: os.Geteuid() == 0,
	}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start mariadb: %w", err)
	}
	if pid, _ := ReadPIDFile(m.pidFile); ProcessAlive(pid) {
		return nil, fmt.Errorf("start mariadb in %s: already running as pid %d", dir, pid)
	}
	if err := m.install(ctx); err != nil {
		return nil, err
	}
	if err := m.start(ctx, true); err != nil {
		return nil, err
	}
	if err := m.createUser(ctx); err != nil {
		m.Kill()
		return nil, err
	}
	return m, nil
}

// CheckMariaDBInstalled returns an error naming the Debian package when mariadbd or
// mariadb-install-db is not on PATH (or in /usr/sbin, where Debian puts mariadbd).
func CheckMariaDBInstalled() error {
	for _, bin := range []string{mariadbdBin, installDBBin} {
		if _, err := lookBin(bin); err != nil {
			return fmt.Errorf("vtdirect: %s not found: install MariaDB (Debian/Ubuntu: `apt-get install %s`, as root)", bin, mariadbDebianPkg)
		}
	}
	return nil
}

// lookBin finds bin on PATH, falling back to the sbin directories that a non-root user's PATH
// often lacks.
func lookBin(bin string) (string, error) {
	if p, err := exec.LookPath(bin); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(d, bin)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", bin, exec.ErrNotFound)
}

// install runs mariadb-install-db into Dir/data unless a previous run completed.
func (m *MariaDB) install(ctx context.Context) error {
	marker := filepath.Join(m.cfg.Dir, initMarker)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := os.RemoveAll(m.dataDir); err != nil {
		return fmt.Errorf("initialise %s: %w", m.dataDir, err)
	}
	m.log.Info("initialising mariadb data dir", "dir", m.dataDir)
	if err := installDataDir(ctx, m.dataDir, filepath.Join(m.cfg.Dir, installLog), m.runAsRoot); err != nil {
		return err
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return fmt.Errorf("initialise %s: %w", m.dataDir, err)
	}
	return nil
}

// Start (re)starts mariadbd on the instance's data dir and port, after Stop or Kill, and waits
// until it accepts connections. A replica resumes replication by itself (its master info is in
// the data dir) and comes back read-only.
func (m *MariaDB) Start(ctx context.Context) error { return m.start(ctx, false) }

// start starts mariadbd. When the port was chosen automatically and this is the first start,
// a port taken by someone else between FreePort and the bind is replaced by another one; a
// restart keeps its port (the topo records it).
func (m *MariaDB) start(ctx context.Context, first bool) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		if m.autoPort && first {
			port, err := FreePort()
			if err != nil {
				return err
			}
			m.cfg.Port = port
		}
		err := m.startOnce(ctx)
		if err == nil || !m.autoPort || !first || attempt >= 3 || !errors.Is(err, errPortInUse) {
			return err
		}
		m.log.Info("port taken before mariadbd could bind it, retrying", "port", m.cfg.Port)
	}
}

// errPortInUse marks a start that failed because the TCP port was taken.
var errPortInUse = errors.New("port in use")

func (m *MariaDB) startOnce(ctx context.Context) error {
	m.mu.Lock()
	if m.proc != nil {
		m.mu.Unlock()
		return fmt.Errorf("start mariadb %s: already running", m.Addr())
	}
	m.mu.Unlock()

	if err := os.MkdirAll(filepath.Join(m.cfg.Dir, tmpDirName), 0o755); err != nil {
		return fmt.Errorf("start mariadb: %w", err)
	}
	cnf := filepath.Join(m.cfg.Dir, myCnfName)
	if err := os.WriteFile(cnf, []byte(myCnf(m.cfg.Dir, m.cfg.Port, m.cfg.ServerID)), 0o644); err != nil {
		return fmt.Errorf("start mariadb: %w", err)
	}
	bin, err := lookBin(mariadbdBin)
	if err != nil {
		return err
	}
	// --defaults-file must come first.
	args := []string{"--defaults-file=" + cnf}
	if m.runAsRoot {
		args = append(args, "--user=root")
	}
	args = append(args, m.cfg.ExtraArgs...)
	out, err := os.OpenFile(filepath.Join(m.cfg.Dir, stdoutLogName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start mariadb: %w", err)
	}
	defer out.Close() // the child holds its own copy
	// Remember where this start's error log begins, to show only its lines on failure.
	logStart := fileSize(m.errorLog)

	// Not CommandContext: ctx bounds the start, not the server's life.
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = m.cfg.Dir
	if m.cfg.Detached {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	m.log.Info("starting mariadbd", "addr", m.Addr(), "server_id", m.cfg.ServerID, "dir", m.cfg.Dir)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mariadbd: %w", err)
	}
	done := make(chan struct{})
	m.mu.Lock()
	m.proc, m.done = cmd.Process, done
	m.mu.Unlock()
	// The waiter goroutine is owned by this MariaDB: it exits when the process does, which Stop
	// and Kill wait for.
	go func() {
		_ = cmd.Wait()
		m.mu.Lock()
		if m.proc == cmd.Process {
			m.proc = nil
		}
		m.mu.Unlock()
		close(done)
	}()

	if err := m.waitReady(ctx, done); err != nil {
		m.Kill()
		log := tailFrom(m.errorLog, logStart, 20)
		if strings.Contains(log, "Address already in use") || strings.Contains(log, "Do you already have another server running") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fmt.Errorf("start mariadbd %s (dir %s): %w\n%s", m.Addr(), m.cfg.Dir, err, log)
	}
	return nil
}

// waitReady polls the unix socket until the server answers or exits.
func (m *MariaDB) waitReady(ctx context.Context, done <-chan struct{}) error {
	db, err := sql.Open("mysql", m.rootDSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var lastErr error
	for {
		pingCtx, cancel := context.WithTimeout(ctx, time.Second)
		lastErr = db.PingContext(pingCtx)
		cancel()
		if lastErr == nil {
			return nil
		}
		select {
		case <-done:
			return errors.New("mariadbd exited during start-up")
		case <-ctx.Done():
			return fmt.Errorf("not accepting connections: %w (last error: %v)", ctx.Err(), lastErr)
		case <-t.C:
		}
	}
}

// Stop shuts the server down cleanly (SIGTERM: mariadbd flushes and exits) and waits until the
// process has exited; if ctx ends first it kills it.
func (m *MariaDB) Stop(ctx context.Context) error {
	m.mu.Lock()
	proc, done := m.proc, m.done
	m.mu.Unlock()
	if proc == nil {
		return nil
	}
	m.log.Info("stopping mariadbd", "addr", m.Addr())
	if err := proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop mariadbd %s: %w", m.Addr(), err)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		m.Kill()
		return fmt.Errorf("stop mariadbd %s: killed after %w", m.Addr(), ctx.Err())
	}
}

// Kill kills the server with SIGKILL (a crash, for failure tests) and waits until it is gone.
func (m *MariaDB) Kill() {
	m.mu.Lock()
	proc, done := m.proc, m.done
	m.mu.Unlock()
	if proc == nil {
		return
	}
	// The whole group when it has its own; mariadbd forks no helpers today, but be thorough.
	_ = syscall.Kill(-proc.Pid, syscall.SIGKILL)
	_ = proc.Kill()
	<-done
}

// Running reports whether the server process is alive.
func (m *MariaDB) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc != nil
}

// Addr is the server's TCP address, "127.0.0.1:port".
func (m *MariaDB) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.cfg.Port)) }

// Port is the server's TCP port.
func (m *MariaDB) Port() int { return m.cfg.Port }

// ServerID is the server's server_id.
func (m *MariaDB) ServerID() uint32 { return m.cfg.ServerID }

// Dir is the instance directory.
func (m *MariaDB) Dir() string { return m.cfg.Dir }

// User and Password return the account StartMariaDB created.
func (m *MariaDB) User() string     { return m.cfg.User }
func (m *MariaDB) Password() string { return m.cfg.Password }

// Socket is the unix socket path (root can log in there without a password).
func (m *MariaDB) Socket() string { return m.socket }

// ErrorLog is the path of the server's error log.
func (m *MariaDB) ErrorLog() string { return m.errorLog }

// PID is the process id, or 0 when the server is not running.
func (m *MariaDB) PID() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil {
		return 0
	}
	return m.proc.Pid
}

// DBAUser and DBAPassword return the admin account StartMariaDB created.
func (m *MariaDB) DBAUser() string     { return m.cfg.DBAUser }
func (m *MariaDB) DBAPassword() string { return m.cfg.DBAPassword }

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// tailFrom returns the last n lines written to path after offset.
func tailFrom(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
