//go:build linux

package escape

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

// httpTarget is a host-side HTTP server that counts requests to /probe, and
// also answers raw bytes (what CONNECT and SOCKS5 tunnels carry). It
// counts a connection before it answers or closes it.
type httpTarget struct {
	addr string
	hits atomic.Int64
}

func serveTarget(t *testing.T) *httpTarget {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &httpTarget{addr: l.Addr().String()}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				n, _ := c.Read(buf)
				if n == 0 {
					return
				}
				tg.hits.Add(1)
				if strings.HasPrefix(string(buf[:n]), "GET ") {
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
				}
			}()
		}
	}()
	return tg
}

// TestProxyFromInside: from inside the sandbox, an allowed host is reached
// through the proxy by plain HTTP, CONNECT and SOCKS5, and a host the policy
// does not list is not reached by any of them. The same probe reaches that
// host once it is allowed, so the refusal is the policy's doing.
func TestProxyFromInside(t *testing.T) {
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"full", nil}, {"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}}} {
		for _, u := range users() {
			for _, how := range []string{"via-http-proxy", "via-connect", "via-socks5"} {
				t.Run(mode.name+"/"+u.name+"/"+how, func(t *testing.T) {
					t.Parallel()
					proxyProbe(t, u.uid, how, mode.extra)
				})
			}
		}
	}
}

func proxyProbe(t *testing.T, uid int, how string, extra []string) {
	allowed, other := serveTarget(t), serveTarget(t)

	e := newEnv(t, uid)
	e.extra = append(append([]string{}, extra...), "--allow-host", allowed.addr)
	// The probe waits for the target's answer (HTTP) or close (the
	// tunnels), which the target sends once it has counted the
	// connection: when the run ends, hits is final.
	r := e.run(true, nil, probeBin, how, allowed.addr)
	if allowed.hits.Load() == 0 {
		t.Fatalf("the allowed host was not reached through the proxy (exit %d): %s", r.code, r.stderr)
	}

	e.run(true, nil, probeBin, how, other.addr)
	if n := other.hits.Load(); n != 0 {
		t.Errorf("ESCAPED: a host the policy does not list received %d connections", n)
	}

	e.extra = append(append([]string{}, extra...), "--allow-host", other.addr)
	e.run(true, nil, probeBin, how, other.addr)
	if other.hits.Load() == 0 {
		t.Fatalf("once allowed, the host was not reached: the probe cannot tell a refusal from a failure")
	}
}

// TestListenWithoutBind: listen(2) on a socket never bound binds a port of
// every address; from the host, nothing may reach it (issue 17.9: in the
// landlock mode, Landlock's bind rule never sees this bind).
func TestListenWithoutBind(t *testing.T) {
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"full", nil}, {"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}}} {
		for _, u := range users() {
			t.Run(mode.name+"/"+u.name, func(t *testing.T) {
				t.Parallel()
				for _, sandboxed := range []bool{false, true} {
					e := newEnv(t, u.uid)
					e.extra = mode.extra
					reached := listenProbe(t, e, sandboxed)
					if !sandboxed && !reached {
						t.Fatal("baseline without cordon: the host could not reach the listener, so the probe proves nothing")
					}
					if sandboxed && reached {
						t.Error("ESCAPED: the host reached a listener inside the sandbox")
					}
				}
			})
		}
	}
}

// listenProbe runs the listen-unbound probe and reports whether the host
// reached its listener.
func listenProbe(t *testing.T, e *env, sandboxed bool) bool {
	portFile := filepath.Join(e.ws, "port")
	cmd := e.command(sandboxed, nil, probeBin, "listen-unbound", portFile)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() { cmd.Process.Kill(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(portFile); err == nil && len(b) > 0 {
			c, err := net.DialTimeout("tcp4", "127.0.0.1:"+string(b), 2*time.Second)
			if err != nil {
				return false
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 6)
			n, _ := c.Read(buf)
			c.Close()
			return string(buf[:n]) == "inside"
		}
		select {
		case <-done:
			if !strings.Contains(stderr.String(), "probe: started") {
				t.Fatalf("the probe never ran: %s", stderr.String())
			}
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("the probe neither wrote its port nor ended")
	return false
}

// TestProxyUnlistedPort: an allowed host on a port its rule does not list is
// refused.
func TestProxyUnlistedPort(t *testing.T) {
	tg := serveTarget(t)
	e := newEnv(t, 0)
	host, _, _ := net.SplitHostPort(tg.addr)
	e.extra = []string{"--allow-host", host + ":1"} // the IP is allowed, on another port
	e.run(true, nil, probeBin, "via-connect", tg.addr)
	if n := tg.hits.Load(); n != 0 {
		t.Errorf("ESCAPED: a port the rule does not list received %d connections", n)
	}
}

// dnsServer answers every A question with 192.0.2.1 and counts queries.
type dnsServer struct {
	addr    string
	queries atomic.Int64
}

func serveDNS(t *testing.T) *dnsServer {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	s := &dnsServer{addr: pc.LocalAddr().String()}
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.queries.Add(1)
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			if q.Type == dnsmessage.TypeA {
				b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}})
			}
			out, err := b.Finish()
			if err == nil {
				pc.WriteTo(out, from)
			}
		}
	}()
	return s
}

// TestNoDNSInside: a name lookup inside the sandbox fails at once: the
// lookup below asks a resolver on the host directly, which answers the
// baseline and must receive nothing from inside. Names therefore cannot
// carry data out.
func TestNoDNSInside(t *testing.T) {
	for _, u := range users() {
		t.Run(u.name, func(t *testing.T) {
			t.Parallel()
			for _, sandboxed := range []bool{false, true} {
				srv := serveDNS(t)
				e := newEnv(t, u.uid)
				// The host resolver is reached the way a sandboxed tool
				// would reach a resolver listed in /etc/resolv.conf.
				r := e.run(sandboxed, nil, "/bin/sh", "-c", fmt.Sprintf("%s dns-via %s secret-%s.example", probeBin, srv.addr, e.token))
				got := srv.queries.Load()
				if !sandboxed && (got == 0 || !strings.Contains(r.stdout, "resolved")) {
					t.Fatalf("baseline lookup did not reach the resolver: %s", r.stderr)
				}
				if sandboxed && (got != 0 || strings.Contains(r.stdout, "resolved")) {
					t.Errorf("ESCAPED: the host's resolver received %d queries from inside", got)
				}
			}
		})
	}
	// And the system resolver inside fails for any name that is not in
	// /etc/hosts.
	e := newEnv(t, 0)
	r := e.run(true, nil, probeBin, "dns", "cordon-dns-probe.example")
	if r.code == 0 || strings.Contains(r.stdout, "resolved") {
		t.Errorf("a DNS lookup inside the sandbox succeeded: %s", r.stdout)
	}
}

// TestGitOverSSHThroughProxy: with a raw TCP rule for HOST:PORT, git over
// ssh reaches it through cordon's proxy without any ssh configuration: ssh's
// banner arrives at the listener.
func TestGitOverSSHThroughProxy(t *testing.T) {
	for _, tool := range []string{"git", "ssh"} {
		if _, err := exec.LookPath(tool); err != nil {
			testbin.RequireOrSkip(t, tool+" is not installed")
		}
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	banner := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("SSH-2.0-cordon-test\r\n"))
		buf := make([]byte, 256)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _ := c.Read(buf)
		banner <- string(buf[:n])
	}()
	e := newEnv(t, 0)
	e.writeFile(e.home+"/.config/cordon/policy.toml", fmt.Sprintf("version = 1\n[network]\nmode = \"proxy\"\ntcp = [%q]\n", l.Addr().String()))
	_, port, _ := net.SplitHostPort(l.Addr().String())
	cmd := e.command(true, nil, "git", "ls-remote", "ssh://git@127.0.0.1:"+port+"/repo.git")
	cmd.Env = append(cmd.Env, "GIT_SSH_VARIANT=ssh")
	out, _ := cmd.CombinedOutput()
	select {
	case b := <-banner:
		if !strings.HasPrefix(b, "SSH-2.0-") {
			t.Fatalf("the listener got %q, not an ssh banner; git said: %s", b, out)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("ssh never reached the listener through the proxy; git said: %s", out)
	}
}
