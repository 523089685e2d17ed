//go:build linux

// Command probe performs one escape attempt for cordon's escape tests. It is
// run inside the sandbox and, as a baseline, outside it; the tests judge the
// outcome from the host side, never from what probe prints.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/proxy"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: probe ACTION ARGS..."))
	}
	args := os.Args[2:]
	// The tests require this line: a probe that never ran proves nothing.
	if !strings.HasPrefix(os.Args[1], "daemon-") && os.Args[1] != "sleeper" && os.Args[1] != "pinger" {
		fmt.Fprintln(os.Stderr, "probe: started", os.Args[1])
	}
	var err error
	switch os.Args[1] {
	case "write":
		err = os.WriteFile(args[0], []byte(args[1]), 0o644)
	case "append":
		var f *os.File
		if f, err = os.OpenFile(args[0], os.O_WRONLY|os.O_APPEND, 0); err == nil {
			_, err = f.WriteString(args[1])
			f.Close()
		}
	case "listen-unbound":
		err = listenUnbound(args[0])
	case "truncate":
		err = os.Truncate(args[0], 0)
	case "read":
		var b []byte
		if b, err = os.ReadFile(args[0]); err == nil {
			os.Stdout.Write(b)
		}
	case "mkdirp":
		err = os.MkdirAll(args[0], 0o755)
	case "rename":
		err = os.Rename(args[0], args[1])
	case "remove":
		err = os.RemoveAll(args[0])
	case "kill":
		err = syscall.Kill(atoi(args[0]), syscall.SIGKILL)
	case "stop-by-ptrace":
		// Attach, then detach leaving the tracee stopped: the host sees
		// the stop in /proc/PID/stat.
		runtime.LockOSThread()
		pid := atoi(args[0])
		if err = unix.PtraceAttach(pid); err == nil {
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, unix.WALL, nil)
			_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_DETACH, uintptr(pid), 0, uintptr(unix.SIGSTOP), 0, 0)
			if e != 0 {
				err = e
			}
		}
	case "tiocsti":
		for _, c := range []byte(args[0] + "\n") {
			b := c
			if _, _, e := unix.Syscall(unix.SYS_IOCTL, 0, unix.TIOCSTI, uintptr(unsafePointer(&b))); e != 0 {
				err = e
				break
			}
		}
	case "userns":
		// A Go program has threads, so unshare(CLONE_NEWUSER) would fail
		// with EINVAL for that alone; clone a child into one instead.
		cmd := exec.Command("/proc/self/exe", "env")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
		if err = cmd.Run(); err == nil {
			err = os.WriteFile(args[0], []byte("created a user namespace"), 0o644)
		}
	case "daemon":
		// Double fork and a new session: the classic way to outlive the
		// command that started it. The marker the host looks for is read
		// from a file, so that it appears in no command line but the
		// daemon's own. With args[1], the daemon answers "alive" on a unix
		// socket there.
		var marker []byte
		if marker, err = os.ReadFile(args[0]); err != nil {
			break
		}
		cmd := exec.Command("/proc/self/exe", append([]string{"daemon-1", string(marker)}, args[1:]...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		// daemon-1 ends once the sleeper is ready: when this returns,
		// there is a daemon to look for, with its marker in its command
		// line (not in the middle of its exec, where the kernel shows an
		// empty one).
		err = cmd.Run()
	case "daemon-1":
		var r, w *os.File
		if r, w, err = os.Pipe(); err != nil {
			break
		}
		cmd := exec.Command("/proc/self/exe", append([]string{"sleeper"}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		cmd.ExtraFiles = []*os.File{w}
		if err = cmd.Start(); err != nil {
			break
		}
		w.Close()
		if b, _ := io.ReadAll(r); string(b) != "ready" {
			err = fmt.Errorf("the sleeper ended before it was ready")
			break
		}
		os.Exit(0)
	case "sleeper":
		// Ignore what can be ignored, listen if asked to, then say so on
		// descriptor 3 and live for an hour at most.
		signalIgnoreAll()
		var l net.Listener
		if len(args) > 1 {
			if l, err = net.Listen("unix", args[1]); err != nil {
				break
			}
		}
		ready := os.NewFile(3, "ready")
		ready.Write([]byte("ready"))
		ready.Close()
		for l != nil {
			c, err := l.Accept()
			if err != nil {
				break
			}
			c.Write([]byte("alive\n"))
			c.Close()
		}
		time.Sleep(time.Hour)
	case "reap":
		// Run args as a child and reap every process that comes back to
		// this one (a subreaper) until none is left, then exit as the
		// child did: what cordon's init does for a run, so that a fork
		// bomb's copies run at the pace they would inside.
		err = reap(args)
	case "pinger":
		// Echo every byte of stdin to stdout until stdin ends: an answer
		// shows the host that this process still runs user code.
		b := make([]byte, 1)
		for {
			if _, err := os.Stdin.Read(b); err != nil {
				break
			}
			os.Stdout.Write(b)
		}
	case "tcp", "unix":
		// Wait for the listener, which closes once it has counted what it
		// read: when the run ends, an escape has been counted.
		var c net.Conn
		if c, err = net.DialTimeout(os.Args[1], args[0], 2*time.Second); err == nil {
			if _, err = c.Write([]byte("ESCAPED")); err == nil {
				awaitClose(c)
			}
			c.Close()
		}
	case "race-create":
		err = raceCreate(args[0], args[1], args[2], atoi(args[3]))
	case "race-connect":
		err = raceConnect(args[0], args[1], atoi(args[2]))
	case "openat2-create":
		err = openat2Create(args[0])
	case "mkfifo":
		err = unix.Mkfifo(args[0], 0o644)
	case "link":
		err = os.Link(args[0], args[1])
	case "symlink":
		err = os.Symlink(args[0], args[1])
	case "bind-unix":
		var l net.Listener
		if l, err = net.Listen("unix", args[0]); err == nil {
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			l.Close()
		}
	case "spawn":
		// Start args[0] copies of args[1:] in the background, going on
		// when a start fails, and live until stdin closes (at most 30 s):
		// a bounded fork loop. Then kill and reap them: an orphan's zombie
		// waits for the machine's init and, until reaped, still counts
		// against the user's RLIMIT_NPROC, which the next test needs.
		var started []*exec.Cmd
		for range atoi(args[0]) {
			if c := exec.Command(args[1], args[2:]...); c.Start() == nil {
				started = append(started, c)
			}
		}
		fmt.Println("spawned", len(started))
		eof := make(chan struct{})
		go func() { io.Copy(io.Discard, os.Stdin); close(eof) }()
		select {
		case <-eof:
		case <-time.After(30 * time.Second):
		}
		for _, c := range started {
			c.Process.Kill()
			c.Wait()
		}
	case "unix-pair":
		// A server and a client on a unix socket at args[0], both inside:
		// the legitimate use the guard must keep working.
		err = unixPair(args[0])
	case "udp":
		// Wait for the listener's answer, sent once it has counted the
		// datagram (or at most 5 s).
		var c net.Conn
		if c, err = net.Dial("udp", args[0]); err == nil {
			if _, err = c.Write([]byte("ESCAPED")); err == nil {
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				c.Read(make([]byte, 16))
			}
			c.Close()
		}
	case "via-http-proxy", "via-connect", "via-socks5":
		// Reach args[0] (HOST:PORT) through the proxy the sandbox
		// announces, ignoring NO_PROXY (which sends loopback direct).
		err = viaProxy(os.Args[1], args[0])
	case "dns":
		_, err = net.LookupHost(args[0])
		if err == nil {
			fmt.Println("resolved", args[0])
		}
	case "dns-via":
		// A lookup sent to the resolver at args[0], as a tool would send it
		// to the nameserver of /etc/resolv.conf.
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "udp", args[0])
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if _, err = r.LookupHost(ctx, args[1]); err == nil {
			fmt.Println("resolved", args[1])
		}
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
	default:
		err = fmt.Errorf("unknown action %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func reap(argv []string) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	child, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}})
	if err != nil {
		return err
	}
	code := 0
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			break // ECHILD: nothing is left
		}
		if pid == child {
			code = ws.ExitStatus()
			if ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
	}
	os.Exit(code)
	return nil
}

func unixPair(path string) error {
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("PONG"))
			c.Close()
		}
	}()
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	fmt.Println("unix pair:", string(buf))
	return nil
}

// listenUnbound listens on a TCP socket it never bound (the kernel binds it
// to a free port of every address), writes the port to portFile and serves
// one connection.
func listenUnbound(portFile string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if err := unix.Listen(fd, 1); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return err
	}
	port := sa.(*unix.SockaddrInet4).Port
	if err := os.WriteFile(portFile, []byte(strconv.Itoa(port)), 0o644); err != nil {
		return err
	}
	l, err := net.FileListener(os.NewFile(uintptr(fd), "listener"))
	if err != nil {
		return err
	}
	l.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	c, err := l.Accept()
	if err != nil {
		return err
	}
	c.Write([]byte("inside"))
	return c.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "probe:", err)
	os.Exit(1)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail(err)
	}
	return n
}

func signalIgnoreAll() {
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
}

func viaProxy(how, target string) error {
	env := map[string]string{"via-http-proxy": "HTTP_PROXY", "via-connect": "HTTPS_PROXY", "via-socks5": "ALL_PROXY"}[how]
	u, err := url.Parse(os.Getenv(env))
	if err != nil || u.Host == "" {
		return fmt.Errorf("no proxy in %s", env)
	}
	switch how {
	case "via-http-proxy":
		client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u)}}
		resp, err := client.Get("http://" + target + "/probe")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %s: %s", resp.Status, resp.Header.Get("X-Cordon-Denied"))
		}
		return nil
	case "via-connect":
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			return err
		}
		defer c.Close()
		auth := ""
		if u.User != nil {
			// What curl and Go's client send for a proxy URL with a user:
			// the per-run secret of a proxy without a network namespace.
			pass, _ := u.User.Password()
			auth = "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass)) + "\r\n"
		}
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", target, target, auth)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("CONNECT: %s", resp.Status)
		}
		if _, err = c.Write([]byte("ESCAPED-VIA-CONNECT")); err == nil {
			awaitClose(c)
		}
		return err
	default:
		d, err := proxy.FromURL(u, proxy.Direct)
		if err != nil {
			return err
		}
		c, err := d.Dial("tcp", target)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err = c.Write([]byte("ESCAPED-VIA-SOCKS")); err == nil {
			awaitClose(c)
		}
		return err
	}
}

// awaitClose waits (at most 5 s) for the other end to close c: the test's
// target closes once it has counted what it read. Without it, the run could
// end, and cordon's proxy drop the tunnel, before the bytes got through.
func awaitClose(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, c)
}
