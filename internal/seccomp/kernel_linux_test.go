//go:build linux

package seccomp

// Real-kernel tests. The filter cannot be removed once installed, so it never
// goes on the test runner itself: each case re-executes this test binary as a
// probe child (TestMain sees probeModeEnv), which installs the filter (or
// not, for the control run), attempts each escape, writes a report to
// stdout and then waits on stdin, so the parent can look at the effects
// from outside (the victim's tracer, the terminal's input queue, the
// child's mount table, the listener's accept queue, the file written) while
// the child still lives.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	probeModeEnv   = "CORDON_SECCOMP_PROBE"           // "filter", "none" or "no-nnp"
	probeVictimEnv = "CORDON_SECCOMP_PROBE_VICTIM"    // pid of a process to ptrace
	probeWorkEnv   = "CORDON_SECCOMP_PROBE_WORKDIR"   // a directory to write in
	probeMountEnv  = "CORDON_SECCOMP_PROBE_MOUNTDIR"  // a directory to mount on (root only)
	probeTFOEnv    = "CORDON_SECCOMP_PROBE_TFO_PORT"  // a loopback TCP port to Fast-Open to
	probeTTYFd     = 3                                // the pty slave, the child's controlling terminal
	probeWritten   = "written under the probe\n"      // what the child writes in the workdir
	probeOptionsOn = "DenyNetworkExceptTCP+Supervise" // options of the probe's filter, for messages
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(probeModeEnv); mode != "" {
		os.Exit(runProbe(mode))
	}
	os.Exit(m.Run())
}

// probeOptions are the options of the filter the probe child installs: all of
// them, so the network rules meet the real kernel too.
func probeOptions() Options {
	return Options{Arch: runtime.GOARCH, DenyNetworkExceptTCP: true, Supervise: true}
}

// probeReport is what the child tells the parent.
type probeReport struct {
	Setup   string            // a failure before the probes ran
	Install string            // Install's error, "" if none
	Verify  string            // Verify's error, "" if none
	Mode    int               // PR_GET_SECCOMP after setup
	Results map[string]string // probe name: "ok" or the errno name
	Output  map[string]string // probe name: what it printed
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// result turns a probe's error into "ok", an errno name, or the error text.
func result(err error) string {
	if err == nil {
		return "ok"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
	}
	return err.Error()
}

func errnoResult(e unix.Errno) string {
	if e == 0 {
		return "ok"
	}
	return result(e)
}

func runProbe(mode string) int {
	rep := probeReport{Results: map[string]string{}, Output: map[string]string{}}
	defer func() {
		json.NewEncoder(os.Stdout).Encode(rep)
		io.Copy(io.Discard, os.Stdin) // live until the parent has looked
	}()

	f, err := Compile(probeOptions())
	if err != nil {
		rep.Setup = err.Error()
		return 0
	}
	runtime.LockOSThread() // no_new_privs is per thread; Install runs on this one

	switch mode {
	case "no-nnp":
		other := "arm64"
		if runtime.GOARCH == "arm64" {
			other = "amd64"
		}
		wrong, err := Compile(Options{Arch: other})
		if err != nil {
			rep.Setup = err.Error()
			return 0
		}
		rep.Results["wrong-arch-install"] = errText(wrong.Install())
		err = f.Install()
		rep.Install = errText(err)
		rep.Results["install-is-ErrNoNewPrivs"] = strconv.FormatBool(errors.Is(err, ErrNoNewPrivs))
		rep.Results["ioctl-tiocsti-bad-fd"] = errnoResult(sys(unix.SYS_IOCTL, ^uintptr(0), ioctlTIOCSTI, 0))
		rep.Mode, _ = unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
		return 0
	case "filter":
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			rep.Setup = "setting no_new_privs: " + err.Error()
			return 0
		}
		rep.Install = errText(f.Install())
		if rep.Install != "" {
			return 0
		}
		listener, err := f.InstallGuard()
		if err != nil {
			rep.Install = err.Error()
			return 0
		}
		ready := make(chan string, 1)
		go answerConnects(listener, os.Getenv(probeWorkEnv), ready)
		rep.Results["responder"] = <-ready
	case "none":
	default:
		rep.Setup = "unknown probe mode " + mode
		return 0
	}
	rep.Verify = errText(f.Verify())
	rep.Mode, _ = unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)

	res := rep.Results
	// Verify's probes one by one, so the control run can show that each gets
	// the kernel's answer, not the filter's, when the filter is absent.
	for _, p := range probes(f.opts, true) {
		res["verify: "+p.name] = errnoResult(p.call())
	}
	res["socket-unix-dgram"] = socketResult(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	res["connect-unix"] = connectUnix(filepath.Join(os.Getenv(probeWorkEnv), "probe.sock"))
	if victim, err := strconv.Atoi(os.Getenv(probeVictimEnv)); err == nil {
		res["ptrace-seize"] = errnoResult(sys(unix.SYS_PTRACE, unix.PTRACE_SEIZE, uintptr(victim), 0, 0))
	}
	res["clone3"] = errnoResult(sys(unix.SYS_CLONE3, 0, 0))

	// Namespaces through the paths programs use: Go's fork calls unshare or
	// clone with the flag before exec. readlink prints the user namespace
	// the new process ended up in.
	for name, attr := range map[string]*syscall.SysProcAttr{
		"unshare-newuser": {Unshareflags: unix.CLONE_NEWUSER},
		"clone-newuser":   {Cloneflags: unix.CLONE_NEWUSER},
	} {
		cmd := exec.Command("readlink", "/proc/self/ns/user")
		cmd.SysProcAttr = attr
		out, err := cmd.Output()
		res[name] = result(err)
		rep.Output[name] = strings.TrimSpace(string(out))
	}

	ch := []byte("X")
	res["tiocsti"] = errnoResult(sys(unix.SYS_IOCTL, probeTTYFd, ioctlTIOCSTI, uintptr(unsafe.Pointer(&ch[0]))))
	ch2 := []byte("Y")
	res["tiocsti-high-garbage"] = errnoResult(sys(unix.SYS_IOCTL, probeTTYFd, uintptr(dirtyTIOCSTI), uintptr(unsafe.Pointer(&ch2[0]))))
	runtime.KeepAlive(ch)
	runtime.KeepAlive(ch2)

	if dir := os.Getenv(probeMountEnv); dir != "" {
		res["mount-tmpfs"] = result(unix.Mount("cordon-probe", dir, "tmpfs", 0, ""))
	}
	res["mount-missing-target"] = result(unix.Mount("cordon-probe", "/nonexistent/cordon-probe", "tmpfs", 0, ""))

	res["write-file"] = result(os.WriteFile(filepath.Join(os.Getenv(probeWorkEnv), "out.txt"), []byte(probeWritten), 0o600))
	res["exec-true"] = result(exec.Command("true").Run())

	res["socket-tcp"] = socketResult(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	res["socket-udp"] = socketResult(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	res["socket-unix"] = socketResult(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	res["socket-packet"] = socketResult(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err == nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		res["socketpair-unix"] = "ok"
	} else {
		res["socketpair-unix"] = result(err)
	}
	if port, err := strconv.Atoi(os.Getenv(probeTFOEnv)); err == nil {
		res["tcp-fastopen"] = fastOpen(port)
	}
	return 0
}

// answerConnects serves the guard's listener from a thread of its own, as
// the init does: it answers every supervised call with ENETUNREACH, which
// no connect in this test would otherwise get. Before that it proves that
// its own thread is outside the guard by connecting to a unix socket
// itself, and reports the outcome on ready.
func answerConnects(listener *os.File, dir string, ready chan<- string) {
	runtime.LockOSThread()
	path := filepath.Join(dir, "probe.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		ready <- "listen: " + err.Error()
		return
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		unix.Close(fd)
	}
	ready <- result(err)
	// struct seccomp_notif (80 bytes) and struct seccomp_notif_resp (24).
	var req [80]byte
	for {
		clear(req[:])
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, listener.Fd(), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req[0]))); e != 0 {
			if e == unix.EINTR || e == unix.ENOENT {
				continue
			}
			return
		}
		var resp [24]byte
		copy(resp[0:8], req[0:8]) // id
		errnoVal := -int32(unix.ENETUNREACH)
		*(*int32)(unsafe.Pointer(&resp[16])) = errnoVal
		unix.Syscall(unix.SYS_IOCTL, listener.Fd(), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp[0])))
	}
}

func connectUnix(path string) string {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "socket: " + result(err)
	}
	defer unix.Close(fd)
	return result(unix.Connect(fd, &unix.SockaddrUnix{Name: path}))
}

func socketResult(domain, typ, proto int) string {
	fd, err := unix.Socket(domain, typ, proto)
	if err == nil {
		unix.Close(fd)
	}
	return result(err)
}

// fastOpen connects to 127.0.0.1:port with TCP Fast Open, which sends the
// SYN from inside sendto without calling connect.
func fastOpen(port int) string {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "socket: " + result(err)
	}
	defer unix.Close(fd)
	return result(unix.Sendto(fd, []byte("fast open"), unix.MSG_FASTOPEN, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
}

// child is a running probe child and what the parent set up for it.
type child struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	report   probeReport
	victim   *exec.Cmd
	slaveFd  int
	listener *net.TCPListener
	workDir  string
	mountDir string
	stderr   *bytes.Buffer
}

// startProbe starts a probe child in mode and reads its report. The child
// stays alive until finish.
func startProbe(t *testing.T, mode string) *child {
	t.Helper()
	c := &child{workDir: t.TempDir(), stderr: &bytes.Buffer{}}

	c.victim = exec.Command("sleep", "3600")
	if err := c.victim.Start(); err != nil {
		t.Fatalf("starting the ptrace victim: %v", err)
	}
	t.Cleanup(func() { c.victim.Process.Kill(); c.victim.Wait() })

	master, slave := openPty(t)
	c.slaveFd = slave
	slaveFile := os.NewFile(uintptr(slave), "pty slave")
	t.Cleanup(func() { slaveFile.Close(); unix.Close(master) })

	l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.listener = l
	t.Cleanup(func() { l.Close() })

	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(),
		probeModeEnv+"="+mode,
		probeVictimEnv+"="+strconv.Itoa(c.victim.Process.Pid),
		probeWorkEnv+"="+c.workDir,
		probeTFOEnv+"="+strconv.Itoa(l.Addr().(*net.TCPAddr).Port),
	)
	c.cmd.ExtraFiles = []*os.File{slaveFile} // fd 3
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: probeTTYFd}
	if os.Geteuid() == 0 {
		// A private mount namespace, so the control run's mount stays
		// inside the child, where the parent can still see it.
		c.mountDir = filepath.Join(t.TempDir(), "mnt")
		if err := os.Mkdir(c.mountDir, 0o700); err != nil {
			t.Fatal(err)
		}
		c.cmd.Env = append(c.cmd.Env, probeMountEnv+"="+c.mountDir)
		c.cmd.SysProcAttr.Unshareflags = unix.CLONE_NEWNS
	}
	c.cmd.Stderr = c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting the probe child: %v", err)
	}
	t.Cleanup(func() { c.stdin.Close(); c.cmd.Wait() })
	if err := json.NewDecoder(stdout).Decode(&c.report); err != nil {
		c.stdin.Close()
		c.cmd.Wait()
		t.Fatalf("reading the probe report: %v (child: %v, stderr: %s)", err, c.cmd.ProcessState, c.stderr)
	}
	if c.report.Setup != "" {
		t.Fatalf("probe setup failed: %s", c.report.Setup)
	}
	t.Logf("%s report: %+v", mode, c.report)
	return c
}

// finish lets the child exit and checks that it exited cleanly: a filter
// that killed it would show here.
func (c *child) finish(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("probe child: %v (stderr: %s)", err, c.stderr)
	}
}

// openPty returns a pty master and its slave, the slave in raw mode so a
// character pushed into its input queue can be read back at once.
func openPty(t *testing.T) (master, slave int) {
	t.Helper()
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("opening /dev/ptmx (the TIOCSTI probe needs a pty): %v", err)
	}
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(master, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("TIOCGPTN: %v", err)
	}
	slave, err = unix.Open("/dev/pts/"+strconv.Itoa(n), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("opening the pty slave: %v", err)
	}
	tio, err := unix.IoctlGetTermios(slave, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Lflag &^= unix.ICANON | unix.ECHO | unix.ISIG | unix.IEXTEN
	if err := unix.IoctlSetTermios(slave, unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// injected returns what sits in the terminal's input queue: what TIOCSTI
// typed, as a program reading the terminal would get it. The kernel's
// TIOCSTI hands the byte to the line discipline before the ioctl returns, so
// a non-blocking read after the child's report sees everything it injected.
func (c *child) injected(t *testing.T) string {
	t.Helper()
	if err := unix.SetNonblock(c.slaveFd, true); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := unix.Read(c.slaveFd, buf)
	if errors.Is(err, unix.EAGAIN) {
		return ""
	}
	if err != nil {
		t.Fatalf("reading the terminal's input queue: %v", err)
	}
	return string(buf[:n])
}

// tracerOfVictim returns the victim's TracerPid.
func (c *child) tracerOfVictim(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.victim.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "TracerPid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
	}
	t.Fatal("no TracerPid in the victim's status")
	return 0
}

// mountedInChild reports whether the child's mount table has a tmpfs on
// mountDir.
func (c *child) mountedInChild(t *testing.T) bool {
	t.Helper()
	info, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", c.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(info), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && fields[4] == c.mountDir && strings.Contains(line, " - tmpfs ") {
			return true
		}
	}
	return false
}

// fastOpenConnections counts the connections that reached the listener
// before a sentinel the parent makes now. The child's attempt finished
// before it wrote its report, and a blocking Fast Open sendto returns only
// once the connection is established, so anything it made is queued ahead
// of the sentinel.
func (c *child) fastOpenConnections(t *testing.T) int {
	t.Helper()
	sentinel, err := net.DialTCP("tcp4", nil, c.listener.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer sentinel.Close()
	for n := 0; ; n++ {
		conn, err := c.listener.AcceptTCP()
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		if conn.RemoteAddr().String() == sentinel.LocalAddr().String() {
			return n
		}
	}
}

func ownUserNamespace(t *testing.T) string {
	t.Helper()
	ns, err := os.Readlink("/proc/self/ns/user")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func requireSupported(t *testing.T) {
	t.Helper()
	if err := Supported(); err != nil {
		t.Fatalf("this kernel cannot run cordon's filter, which these tests need: %v", err)
	}
}

func TestSupported(t *testing.T) {
	requireSupported(t)
}

// The control run: the same probes without the filter must show every escape,
// or the filtered run below would prove nothing.
func TestProbesDetectEscapesWithoutFilter(t *testing.T) {
	requireSupported(t)
	c := startProbe(t, "none")
	r := c.report.Results

	if c.report.Verify == "" {
		t.Errorf("Verify passed in a process without the filter")
	}
	for _, p := range probes(probeOptions(), true) {
		if got := r["verify: "+p.name]; got == "" || got == errnoResult(p.want) {
			t.Errorf("Verify's probe %s without the filter: %q, the filter's own answer; it cannot tell the filter from the kernel", p.name, got)
		}
	}
	if got := c.tracerOfVictim(t); got == 0 || r["ptrace-seize"] != "ok" {
		t.Errorf("ptrace without the filter: %s, victim's TracerPid %d; want the child attached", r["ptrace-seize"], got)
	}
	if r["clone3"] == "ENOSYS" {
		t.Errorf("clone3(NULL, 0) gave ENOSYS without the filter; the kernel lacks clone3, so the filtered run's ENOSYS would prove nothing")
	}
	own := ownUserNamespace(t)
	for _, name := range []string{"unshare-newuser", "clone-newuser"} {
		if r[name] != "ok" || c.report.Output[name] == "" || c.report.Output[name] == own {
			t.Errorf("%s without the filter: %s, namespace %q (own %q); want a new user namespace", name, r[name], c.report.Output[name], own)
		}
	}
	if got := c.injected(t); got != "XY" || r["tiocsti"] != "ok" || r["tiocsti-high-garbage"] != "ok" {
		t.Errorf("TIOCSTI without the filter: %s and %s, terminal received %q; want both bytes injected (XY)", r["tiocsti"], r["tiocsti-high-garbage"], got)
	}
	if c.mountDir != "" {
		if !c.mountedInChild(t) || r["mount-tmpfs"] != "ok" {
			t.Errorf("mount without the filter: %s; want the tmpfs mounted in the child", r["mount-tmpfs"])
		}
	} else {
		t.Log("not root: the tmpfs mount probe needs CAP_SYS_ADMIN; mount-missing-target still tells the filter's answer from the kernel's")
	}
	if r["mount-missing-target"] != "ENOENT" {
		t.Errorf("mount on a missing target without the filter: %s, want ENOENT", r["mount-missing-target"])
	}
	if r["connect-unix"] != "ECONNREFUSED" && r["connect-unix"] != "ENOENT" {
		t.Errorf("connect to a unix socket nobody listens on, without the filter: %s, want ENOENT or ECONNREFUSED", r["connect-unix"])
	}
	for _, name := range []string{"socket-tcp", "socket-udp", "socket-unix", "socket-unix-dgram", "socketpair-unix", "write-file", "exec-true"} {
		if r[name] != "ok" {
			t.Errorf("%s without the filter: %s, want ok", name, r[name])
		}
	}
	if r["socket-packet"] == "EAFNOSUPPORT" {
		t.Errorf("AF_PACKET gives EAFNOSUPPORT without the filter, so the filtered run cannot tell the filter's answer")
	}
	switch n := c.fastOpenConnections(t); {
	case r["tcp-fastopen"] == "ok" && n == 1:
	case r["tcp-fastopen"] == "EOPNOTSUPP":
		t.Logf("TCP Fast Open is disabled for clients on this machine (net.ipv4.tcp_fastopen); the probe cannot show the escape")
	default:
		t.Errorf("TCP Fast Open without the filter: %s, %d connections reached the listener; want ok and 1", r["tcp-fastopen"], n)
	}
	c.finish(t)
	checkWritten(t, c)
}

func TestFilterBlocksEscapes(t *testing.T) {
	requireSupported(t)
	c := startProbe(t, "filter")
	r := c.report.Results

	if c.report.Install != "" || c.report.Verify != "" {
		t.Fatalf("Install: %q, Verify: %q; want both to succeed", c.report.Install, c.report.Verify)
	}
	if c.report.Mode != unix.SECCOMP_MODE_FILTER {
		t.Errorf("PR_GET_SECCOMP after Install: %d, want %d", c.report.Mode, unix.SECCOMP_MODE_FILTER)
	}
	for _, p := range probes(probeOptions(), true) {
		if got := r["verify: "+p.name]; got != errnoResult(p.want) {
			t.Errorf("Verify's probe %s under the filter: %q, want %s", p.name, got, errnoResult(p.want))
		}
	}
	if got := c.tracerOfVictim(t); got != 0 || r["ptrace-seize"] != "EPERM" {
		t.Errorf("ptrace under the filter: %s, victim's TracerPid %d; want EPERM and no tracer", r["ptrace-seize"], got)
	}
	if r["clone3"] != "ENOSYS" {
		t.Errorf("clone3 under the filter: %s, want ENOSYS", r["clone3"])
	}
	for _, name := range []string{"unshare-newuser", "clone-newuser"} {
		if r[name] != "EPERM" || c.report.Output[name] != "" {
			t.Errorf("%s under the filter: %s, output %q; want EPERM and no process", name, r[name], c.report.Output[name])
		}
	}
	if got := c.injected(t); got != "" || r["tiocsti"] != "EPERM" || r["tiocsti-high-garbage"] != "EPERM" {
		t.Errorf("TIOCSTI under the filter: %s and %s, terminal received %q; want EPERM twice and nothing injected", r["tiocsti"], r["tiocsti-high-garbage"], got)
	}
	if c.mountDir != "" && (c.mountedInChild(t) || r["mount-tmpfs"] != "EPERM") {
		t.Errorf("mount under the filter: %s, mounted %v; want EPERM and no mount", r["mount-tmpfs"], c.mountedInChild(t))
	}
	want := map[string]string{
		"mount-missing-target": "EPERM",
		"write-file":           "ok",
		"exec-true":            "ok",
		"socket-tcp":           "ok",
		"socket-udp":           "EPERM",
		"socket-unix":          "ok",
		"socket-unix-dgram":    "EPERM",
		"socketpair-unix":      "ok",
		// The responder's own connect, from a thread outside the guard,
		// went through; the child's main thread's was answered by it.
		"responder":     "ok",
		"connect-unix":  "ENETUNREACH",
		"socket-packet": "EAFNOSUPPORT",
		"tcp-fastopen":  "EPERM",
	}
	for name, w := range want {
		if r[name] != w {
			t.Errorf("%s under the filter (%s): %s, want %s", name, probeOptionsOn, r[name], w)
		}
	}
	if n := c.fastOpenConnections(t); n != 0 {
		t.Errorf("TCP Fast Open under the filter: %d connections reached the listener, want 0", n)
	}
	c.finish(t)
	checkWritten(t, c)
}

// Ordinary work under the filter is judged by its effect: the file exists
// with what the child wrote.
func checkWritten(t *testing.T, c *child) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(c.workDir, "out.txt"))
	if err != nil || string(got) != probeWritten {
		t.Errorf("file written by the child: %q, %v; want %q", got, err, probeWritten)
	}
}

func TestInstallRequiresNoNewPrivs(t *testing.T) {
	requireSupported(t)
	if nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); err != nil || nnp != 0 {
		t.Skipf("this test process already runs with no_new_privs (%d, %v), which children inherit, so Install cannot be tried without it", nnp, err)
	}
	c := startProbe(t, "no-nnp")
	r := c.report.Results
	if !strings.Contains(c.report.Install, "no_new_privs") || r["install-is-ErrNoNewPrivs"] != "true" {
		t.Errorf("Install without no_new_privs: %q (wraps ErrNoNewPrivs: %s); want an error that says no_new_privs is missing", c.report.Install, r["install-is-ErrNoNewPrivs"])
	}
	if !strings.Contains(r["wrong-arch-install"], "compiled for") {
		t.Errorf("Install of a filter for another architecture: %q; want a refusal naming the architectures", r["wrong-arch-install"])
	}
	if c.report.Mode != 0 || r["ioctl-tiocsti-bad-fd"] != "EBADF" {
		t.Errorf("after the refused Install: seccomp mode %d, ioctl(-1, TIOCSTI) %s; want mode 0 and the kernel's EBADF", c.report.Mode, r["ioctl-tiocsti-bad-fd"])
	}
	c.finish(t)
}
