package netproxy

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	xproxy "golang.org/x/net/proxy"
)

// upstream is a destination the tests start on 127.0.0.1. It counts the
// connections it accepted and keeps what it received: a refused request must
// leave it untouched. It answers plain HTTP requests with "hello from
// upstream" and echoes anything else.
type upstream struct {
	l    net.Listener
	port int

	mu       sync.Mutex
	accepted int
	received []string
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{l: l, port: l.Addr().(*net.TCPAddr).Port}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u.mu.Lock()
			u.accepted++
			u.mu.Unlock()
			go u.serve(c)
		}
	}()
	return u
}

func (u *upstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	first, err := br.Peek(4)
	if err == nil && (string(first) == "GET " || string(first) == "POST" || string(first) == "HEAD") {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			body, _ := io.ReadAll(req.Body)
			u.record(fmt.Sprintf("%s %s host=%s body=%s", req.Method, req.RequestURI, req.Host, body))
			resp := "hello from upstream"
			status := "200 OK"
			extra := ""
			if req.URL.Path == "/redirect" {
				status, extra = "302 Found", "Location: http://denied.test:"+strconv.Itoa(u.port)+"/\r\n"
			}
			fmt.Fprintf(c, "HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n%s", status, extra, len(resp), resp)
		}
	}
	var got strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			got.Write(buf[:n])
			c.Write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	u.record(got.String())
}

func (u *upstream) record(s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.received = append(u.received, s)
}

func (u *upstream) stats() (accepted int, received []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.accepted, slices.Clone(u.received)
}

// fakeResolver maps test names to addresses and remembers every lookup, so a
// test can check that a refused name was never resolved.
type fakeResolver struct {
	mu      sync.Mutex
	addrs   map[string][]netip.Addr
	lookups []string
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, host)
	if a, ok := r.addrs[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *fakeResolver) looked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lookups)
}

func newResolver() *fakeResolver {
	loop := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	return &fakeResolver{addrs: map[string][]netip.Addr{
		"allowed.test":           loop,
		"denied.test":            loop,
		"evil.test":              loop,
		"allowed.test.evil.test": loop,
		"evilallowed.test":       loop,
		"sneaky.test":            loop,
		"metadata.test":          {netip.MustParseAddr("169.254.169.254")},
	}}
}

// testProxy is a Server on a plain loopback listener (no secret, as for the
// sandbox's unix socket), with its events collected.
type testProxy struct {
	*Server
	addr     string
	resolver *fakeResolver

	mu     sync.Mutex
	events []ConnEvent
}

// prepare, if given, adjusts the proxy before it serves its first
// connection (resolver entries, the dial hook).
func startProxy(t testing.TB, cfg Config, opts Options, prepare ...func(*testProxy)) *testProxy {
	t.Helper()
	p := &testProxy{resolver: newResolver()}
	if opts.Resolver == nil {
		opts.Resolver = p.resolver
	}
	opts.OnEvent = func(ev ConnEvent) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.events = append(p.events, ev)
	}
	s, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Server, p.addr = s, l.Addr().String()
	for _, f := range prepare {
		f(p)
	}
	// The label lets a CPU profile tell the proxy's goroutines (and those
	// they start) from the test's clients and servers:
	// go tool pprof -tagfocus side=proxy.
	go pprof.Do(context.Background(), pprof.Labels("side", "proxy"), func(context.Context) { s.Serve(l) })
	t.Cleanup(func() { s.Close() })
	return p
}

// eventsAfterClose closes the server, which waits for every event.
func (p *testProxy) eventsAfterClose() []ConnEvent {
	p.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// The three ways a sandboxed client reaches a destination. Each returns
// whether the proxy let it through, and what the refusal said.
type probe func(t *testing.T, proxyAddr, hostport string) (ok bool, refusal string)

// viaHTTP sends an absolute-form request with raw bytes, so any host text
// can be tried.
func viaHTTP(t *testing.T, proxyAddr, hostport string) (bool, string) {
	return rawHTTP(t, proxyAddr, fmt.Sprintf("GET http://%s/path HTTP/1.1\r\nHost: %s\r\n\r\n", hostport, hostport))
}

func rawHTTP(t *testing.T, proxyAddr, request string) (bool, string) {
	t.Helper()
	c := dial(t, proxyAddr)
	defer c.Close()
	io.WriteString(c, request)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the proxy's response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return string(body) == "hello from upstream", ""
	}
	return false, resp.Status + " " + resp.Header.Get("X-Cordon-Denied") + " " + string(body)
}

// viaCONNECT opens a tunnel with raw bytes and checks it by echo.
func viaCONNECT(t *testing.T, proxyAddr, hostport string) (bool, string) {
	t.Helper()
	c := dial(t, proxyAddr)
	defer c.Close()
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", hostport, hostport)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("reading the proxy's CONNECT response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return false, resp.Status + " " + resp.Header.Get("X-Cordon-Denied") + " " + string(body)
	}
	return echoes(t, c, br), ""
}

// viaSOCKS5 speaks SOCKS5 with raw bytes; the host goes as a domain name,
// byte for byte.
func viaSOCKS5(t *testing.T, proxyAddr, hostport string) (bool, string) {
	t.Helper()
	host, port := splitTestHostPort(t, hostport)
	c := dial(t, proxyAddr)
	defer c.Close()
	c.Write([]byte{5, 1, 0})
	var sel [2]byte
	if _, err := io.ReadFull(c, sel[:]); err != nil || sel != [2]byte{5, 0} {
		t.Fatalf("SOCKS5 method selection = %v, %v", sel, err)
	}
	req := append([]byte{5, 1, 0, 3, byte(len(host))}, host...)
	c.Write(append(req, byte(port>>8), byte(port)))
	var reply [10]byte
	if _, err := io.ReadFull(c, reply[:]); err != nil {
		t.Fatalf("reading the SOCKS5 reply: %v", err)
	}
	if reply[1] != 0 {
		return false, fmt.Sprintf("SOCKS5 reply code %d", reply[1])
	}
	return echoes(t, c, bufio.NewReader(c)), ""
}

func splitTestHostPort(t *testing.T, hostport string) (string, int) {
	i := strings.LastIndexByte(hostport, ':')
	port, err := strconv.Atoi(hostport[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return hostport[:i], port
}

func echoes(t *testing.T, c net.Conn, r io.Reader) bool {
	t.Helper()
	const msg = "ping through the tunnel"
	io.WriteString(c, msg)
	c.(closeWriter).CloseWrite() // the answer must still arrive after a half-close
	got, err := io.ReadAll(r)
	return err == nil && string(got) == msg
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

var probes = map[string]probe{"http": viaHTTP, "connect": viaCONNECT, "socks5": viaSOCKS5}

// TestHostForms runs every host spelling through every protocol and checks
// the outcome at the destination: reached exactly when the rules say so.
// The same spellings run against a second policy that lists 127.0.0.1 by
// address, so each refusal is shown to come from the rules and not from a
// probe that cannot reach anything.
func TestHostForms(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	byName := Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}}
	byIP := Config{Mode: ModeProxy, Allow: []string{"127.0.0.1:" + port}}

	tests := []struct {
		host          string // as it appears in an authority (IPv6 bracketed)
		byName, byIP  bool
		socksByIPOnly bool // SOCKS sends the text as a domain name; brackets stay
	}{
		{host: "allowed.test", byName: true},
		{host: "ALLOWED.TEST", byName: true},
		{host: "allowed.test.", byName: true},
		{host: "AlLoWeD.tEsT.", byName: true},
		{host: "allowed.test..", byName: false},
		{host: "evil.test\x00.allowed.test", byName: false},
		{host: "allowed.test.evil.test", byName: false},
		{host: "evilallowed.test", byName: false},
		{host: "denied.test", byName: false},
		{host: "127.0.0.1", byIP: true},
		{host: "2130706433", byIP: true},
		{host: "0177.0.0.1", byIP: true},
		{host: "0x7f.1", byIP: true},
		{host: "0x7f.0.0.1", byIP: true},
		{host: "127.1", byIP: true},
		{host: "[::ffff:127.0.0.1]", byIP: true},
		{host: "[::ffff:7f00:1]", byIP: true},
		{host: "[::ffff:127.0.0.1%25lo]", byIP: false},
		{host: "[::ffff:127.0.0.1%lo]", byIP: false},
		{host: "127.0.0.1%lo", byIP: false},
		{host: "127.0.0.2", byIP: false},
		{host: "localhost", byIP: false},
	}
	for _, pol := range []struct {
		name string
		cfg  Config
	}{{"rule by name", byName}, {"rule by address", byIP}} {
		for proto, try := range probes {
			t.Run(pol.name+"/"+proto, func(t *testing.T) {
				p := startProxy(t, pol.cfg, Options{})
				for _, tt := range tests {
					want := tt.byName
					if pol.name == "rule by address" {
						want = tt.byIP
					}
					if proto == "http" && strings.Contains(tt.host, "\x00") {
						want = false // cannot even form a request line
					}
					before, _ := up.stats()
					ok, refusal := try(t, p.addr, tt.host+":"+port)
					after, _ := up.stats()
					reached := after > before
					if ok != want || reached != want {
						t.Errorf("%q: let through %v, destination reached %v; want %v (%s)", tt.host, ok, reached, want, refusal)
					}
				}
				for _, name := range p.resolver.looked() {
					if name != "allowed.test" {
						t.Errorf("the proxy resolved %q, which the policy refused: names must be resolved only after the check", name)
					}
				}
			})
		}
	}
}

func TestAllowedAndDenied(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	cfg := Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}, Deny: []string{"denied.test"}}
	p := startProxy(t, cfg, Options{})
	proxyURL, _ := url.Parse("http://" + p.addr)

	t.Run("http via net/http", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
		resp, err := client.Get("http://allowed.test:" + port + "/hello")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "hello from upstream" {
			t.Fatalf("GET through the proxy = %s %q", resp.Status, body)
		}
		_, got := up.stats()
		if !slices.Contains(got, "GET /hello host=allowed.test:"+port+" body=") {
			t.Errorf("destination received %q; want the origin-form request", got)
		}

		before, _ := up.stats()
		resp, err = client.Get("http://denied.test:" + port + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("denied GET = %s; want 403", resp.Status)
		}
		hdr := resp.Header.Get("X-Cordon-Denied")
		for _, want := range []string{"host=denied.test:" + port, `rule=network.deny "denied.test"`, "fix=remove"} {
			if !strings.Contains(hdr, want) {
				t.Errorf("X-Cordon-Denied = %q; want it to contain %q", hdr, want)
			}
		}
		if !strings.Contains(string(body), "was refused") {
			t.Errorf("refusal body = %q", body)
		}
		if after, _ := up.stats(); after != before {
			t.Errorf("the destination got a connection for a denied host")
		}
	})

	t.Run("socks5 via x/net/proxy", func(t *testing.T) {
		d, err := xproxy.SOCKS5("tcp", p.addr, nil, xproxy.Direct)
		if err != nil {
			t.Fatal(err)
		}
		c, err := d.Dial("tcp", "allowed.test:"+port)
		if err != nil {
			t.Fatalf("SOCKS5 to an allowed host: %v", err)
		}
		if !echoes(t, c, c) {
			t.Errorf("no echo through the SOCKS5 tunnel")
		}
		c.Close()
		before, _ := up.stats()
		if c, err := d.Dial("tcp", "denied.test:"+port); err == nil {
			c.Close()
			t.Fatal("SOCKS5 to a denied host succeeded")
		} else if !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("SOCKS5 refusal = %v; want 'connection not allowed by ruleset'", err)
		}
		if after, _ := up.stats(); after != before {
			t.Errorf("the destination got a connection for a denied host")
		}
	})

	t.Run("unlisted host", func(t *testing.T) {
		ok, refusal := viaCONNECT(t, p.addr, "other.test:"+port)
		if ok || !strings.Contains(refusal, "403") || !strings.Contains(refusal, "--allow-host other.test:"+port) {
			t.Errorf("CONNECT to an unlisted host: ok=%v %q; want 403 naming --allow-host", ok, refusal)
		}
	})
}

func TestPortNotListed(t *testing.T) {
	up := startUpstream(t)
	for _, cfg := range []Config{
		{Mode: ModeProxy, AllowPrivate: []string{"allowed.test"}},          // 80 and 443 only
		{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:1"}},        // another port
		{Mode: ModeProxy, TCP: []string{"allowed.test:1"}},                 // another port
		{Mode: ModeProxy, AllowPrivate: []string{"*.allowed.test:" + "1"}}, // subdomains only
	} {
		p := startProxy(t, cfg, Options{})
		for proto, try := range probes {
			if ok, refusal := try(t, p.addr, "allowed.test:"+strconv.Itoa(up.port)); ok {
				t.Errorf("%s with %+v: a port the rule does not list was reached", proto, cfg)
			} else if proto != "socks5" && !strings.Contains(refusal, "403") {
				t.Errorf("%s with %+v: refusal %q; want 403", proto, cfg, refusal)
			}
		}
	}
	if n, _ := up.stats(); n != 0 {
		t.Errorf("the destination accepted %d connections; want none", n)
	}
}

func TestPrivateAddressNeedsTheFlag(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	for _, tt := range []struct {
		name string
		cfg  Config
		host string
		want bool
		why  string
	}{
		{"name resolving to loopback, plain allow", Config{Mode: ModeProxy, Allow: []string{"sneaky.test:" + port}}, "sneaky.test", false, "loopback"},
		{"same name with the private flag", Config{Mode: ModeProxy, AllowPrivate: []string{"sneaky.test:" + port}}, "sneaky.test", true, ""},
		{"full mode still checks addresses", Config{Mode: ModeFull}, "sneaky.test", true, ""},
		{"metadata even with the flag", Config{Mode: ModeProxy, AllowPrivate: []string{"metadata.test:" + port}}, "metadata.test", false, "metadata"},
		{"metadata by address in full mode", Config{Mode: ModeFull}, "169.254.169.254", false, "metadata"},
		{"loopback by address in full mode", Config{Mode: ModeFull}, "127.0.0.1", true, ""},
		{"unspecified address in full mode", Config{Mode: ModeFull}, "0.0.0.0", false, "no destination"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, tt.cfg, Options{DialTimeout: time.Second})
			before, _ := up.stats()
			ok, refusal := viaCONNECT(t, p.addr, tt.host+":"+port)
			after, _ := up.stats()
			if ok != tt.want || (after > before) != tt.want && tt.host != "169.254.169.254" {
				t.Fatalf("let through %v, reached %v; want %v (%s)", ok, after > before, tt.want, refusal)
			}
			if !tt.want && !strings.Contains(refusal, tt.why) {
				t.Errorf("refusal %q; want it to say %q", refusal, tt.why)
			}
		})
	}
}

func TestHostHeaderMustMatch(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	cfg := Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}}
	p := startProxy(t, cfg, Options{})
	target := "allowed.test:" + port
	for _, tt := range []struct {
		name, request string
		want          bool
	}{
		{"http matching", "GET http://" + target + "/ HTTP/1.1\r\nHost: " + target + "\r\n\r\n", true},
		{"http matching, other spelling", "GET http://" + target + "/ HTTP/1.1\r\nHost: ALLOWED.TEST.:" + port + "\r\n\r\n", true},
		{"http without Host (HTTP/1.0)", "GET http://" + target + "/ HTTP/1.0\r\n\r\n", true},
		{"http other host", "GET http://" + target + "/ HTTP/1.1\r\nHost: denied.test:" + port + "\r\n\r\n", false},
		{"http other port", "GET http://" + target + "/ HTTP/1.1\r\nHost: allowed.test:1\r\n\r\n", false},
		{"http Host without port means 80", "GET http://" + target + "/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n", false},
		{"http two Host headers", "GET http://" + target + "/ HTTP/1.1\r\nHost: " + target + "\r\nHost: denied.test\r\n\r\n", false},
		{"http origin-form", "GET / HTTP/1.1\r\nHost: " + target + "\r\n\r\n", false},
		{"https absolute-form", "GET https://" + target + "/ HTTP/1.1\r\nHost: " + target + "\r\n\r\n", false},
		{"connect other host", "CONNECT " + target + " HTTP/1.1\r\nHost: denied.test:" + port + "\r\n\r\n", false},
		{"connect other port", "CONNECT " + target + " HTTP/1.1\r\nHost: allowed.test:1\r\n\r\n", false},
	} {
		before, _ := up.stats()
		ok, refusal := rawHTTP(t, p.addr, tt.request)
		if strings.HasPrefix(tt.request, "CONNECT") {
			ok = refusal == "" // a 200 to CONNECT has no body to compare
		}
		after, _ := up.stats()
		if ok != tt.want || (after > before) != tt.want {
			t.Errorf("%s: let through %v, reached %v; want %v (%s)", tt.name, ok, after > before, tt.want, refusal)
		}
	}
}

func TestRedirectsAreRelayedNotFollowed(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	p := startProxy(t, Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}}, Options{})
	proxyURL, _ := url.Parse("http://" + p.addr)
	client := &http.Client{
		Transport:     &http.Transport{Proxy: http.ProxyURL(proxyURL)},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get("http://allowed.test:" + port + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %s; want the 302 relayed", resp.Status)
	}
	if n, _ := up.stats(); n != 1 {
		t.Errorf("destination accepted %d connections; want 1", n)
	}
	if got := p.resolver.looked(); slices.Contains(got, "denied.test") {
		t.Errorf("the proxy looked up the redirect target: %q", got)
	}
}

func TestEventsAndSummary(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	p := startProxy(t, Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}, Deny: []string{"denied.test"}}, Options{})
	start := time.Now()
	if ok, r := viaCONNECT(t, p.addr, "ALLOWED.test:"+port); !ok {
		t.Fatalf("CONNECT refused: %s", r)
	}
	viaSOCKS5(t, p.addr, "denied.test:"+port)
	if ok, r := viaHTTP(t, p.addr, "allowed.test:"+port); !ok {
		t.Fatalf("HTTP refused: %s", r)
	}
	events := p.eventsAfterClose()
	if len(events) != 3 {
		t.Fatalf("got %d events; want 3: %+v", len(events), events)
	}
	byProto := map[string]ConnEvent{}
	for _, ev := range events {
		byProto[ev.Protocol] = ev
	}
	c := byProto[ProtoConnect]
	if c.Host != "allowed.test" || c.Port != up.port || c.Addr != "127.0.0.1:"+port || !c.Allowed ||
		c.Rule != `network.allow_private "allowed.test:`+port+`"` ||
		c.BytesSent != int64(len("ping through the tunnel")) || c.BytesReceived != c.BytesSent ||
		c.Start.Before(start) || c.Duration <= 0 {
		t.Errorf("CONNECT event = %+v", c)
	}
	s := byProto[ProtoSOCKS5]
	if s.Host != "denied.test" || s.Allowed || s.Addr != "" || s.Rule != `network.deny "denied.test"` || !strings.Contains(s.Reason, "denied") || s.BytesSent != 0 {
		t.Errorf("SOCKS5 event = %+v", s)
	}
	h := byProto[ProtoHTTP]
	if h.Host != "allowed.test" || h.Method != "GET" || !h.Allowed || h.BytesSent == 0 || h.BytesReceived == 0 {
		t.Errorf("HTTP event = %+v", h)
	}
	sum := p.Summary()
	if sum.Connections != 3 || sum.Allowed != 2 || sum.Denied != 1 || len(sum.Hosts) != 2 ||
		sum.BytesSent != c.BytesSent+h.BytesSent || sum.BytesReceived != c.BytesReceived+h.BytesReceived {
		t.Errorf("Summary = %+v", sum)
	}
	if sum.Hosts[0].Host != "allowed.test" || sum.Hosts[0].Allowed != 2 || sum.Hosts[1].Host != "denied.test" || sum.Hosts[1].Denied != 1 || sum.Hosts[1].Reason == "" {
		t.Errorf("Summary.Hosts = %+v", sum.Hosts)
	}
}

type fakeAsker struct {
	answer bool
	err    error
	block  bool
	asked  []Question
	mu     sync.Mutex
}

func (a *fakeAsker) Ask(ctx context.Context, q Question) (bool, error) {
	a.mu.Lock()
	a.asked = append(a.asked, q)
	a.mu.Unlock()
	if a.block {
		<-ctx.Done()
		return false, ctx.Err()
	}
	return a.answer, a.err
}

func TestAsk(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	cfg := Config{Mode: ModeProxy, Unlisted: UnlistedAsk, Deny: []string{"evil.test"}}
	for _, tt := range []struct {
		name  string
		asker *fakeAsker
		host  string
		want  bool
		why   string
		asked int
	}{
		{"no asker", nil, "denied.test", false, "no approval channel is configured, so ask behaves as deny", 0},
		{"human says no", &fakeAsker{answer: false}, "denied.test", false, "refused it when asked", 1},
		{"asker fails", &fakeAsker{err: errors.New("inbox down")}, "denied.test", false, "inbox down", 1},
		{"no answer in time", &fakeAsker{block: true}, "denied.test", false, "no answer within", 1},
		{"deny list is never asked", &fakeAsker{answer: true}, "evil.test", false, "network.deny", 0},
		{"approved, but resolves to loopback", &fakeAsker{answer: true}, "denied.test", false, "loopback", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{AskTimeout: 200 * time.Millisecond}
			if tt.asker != nil {
				opts.Asker = tt.asker
			}
			p := startProxy(t, cfg, opts)
			ok, refusal := viaCONNECT(t, p.addr, tt.host+":"+port)
			if ok != tt.want || !strings.Contains(refusal, tt.why) {
				t.Errorf("let through %v (%s); want %v and a reason containing %q", ok, refusal, tt.want, tt.why)
			}
			if tt.asker != nil && len(tt.asker.asked) != tt.asked {
				t.Errorf("asked %d times; want %d", len(tt.asker.asked), tt.asked)
			}
		})
	}
	if n, _ := up.stats(); n != 0 {
		t.Errorf("destination accepted %d connections; want none", n)
	}
	t.Run("approved", func(t *testing.T) {
		asker := &fakeAsker{answer: true}
		p := startProxy(t, cfg, Options{Asker: asker}, func(p *testProxy) {
			p.resolver.addrs["asked.test"] = []netip.Addr{publicAddr}
			p.dial = redirectPublic(p.Server, up.port)
		})
		ok, refusal := viaCONNECT(t, p.addr, "asked.test:"+port)
		if !ok {
			t.Fatalf("an approved host was refused: %s", refusal)
		}
		if len(asker.asked) != 1 || asker.asked[0].Host != "asked.test" || asker.asked[0].Port != up.port || asker.asked[0].Protocol != ProtoConnect {
			t.Errorf("asked %+v", asker.asked)
		}
		if evs := p.eventsAfterClose(); len(evs) != 1 || evs[0].Rule != "approved when asked" || !evs[0].Allowed {
			t.Errorf("events %+v", evs)
		}
	})
}

// publicAddr stands for a public address; redirectPublic makes the proxy's
// dialer reach the test's upstream when it dials that address, and nothing
// else, and records what was dialled.
var publicAddr = netip.MustParseAddr("93.184.215.14")

func redirectPublic(s *Server, port int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	orig := s.dial
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == netip.AddrPortFrom(publicAddr, uint16(port)).String() {
			addr = "127.0.0.1:" + strconv.Itoa(port)
		}
		return orig(ctx, network, addr)
	}
}

func TestDialsTheCheckedAddress(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	// A name that resolves to a private and a public address (a rebinding
	// attempt) under a rule without the private flag: only the public one
	// may be dialled, and the name is looked up exactly once.
	var mu sync.Mutex
	var dialled []string
	p := startProxy(t, Config{Mode: ModeProxy, Allow: []string{"rebind.test:" + port}}, Options{}, func(p *testProxy) {
		p.resolver.addrs["rebind.test"] = []netip.Addr{netip.MustParseAddr("127.0.0.1"), publicAddr}
		redirect := redirectPublic(p.Server, up.port)
		p.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dialled = append(dialled, addr)
			mu.Unlock()
			return redirect(ctx, network, addr)
		}
	})
	for proto, try := range probes {
		mu.Lock()
		dialled = nil
		mu.Unlock()
		if ok, refusal := try(t, p.addr, "rebind.test:"+port); !ok {
			t.Fatalf("%s: refused: %s", proto, refusal)
		}
		mu.Lock()
		if want := netip.AddrPortFrom(publicAddr, uint16(up.port)).String(); len(dialled) != 1 || dialled[0] != want {
			t.Errorf("%s: dialled %q; want only %s", proto, dialled, want)
		}
		mu.Unlock()
	}
	if got := p.resolver.looked(); len(got) != 3 {
		t.Errorf("lookups %q; want one per connection", got)
	}
	for _, ev := range p.eventsAfterClose() {
		if ev.Addr != netip.AddrPortFrom(publicAddr, uint16(up.port)).String() {
			t.Errorf("event %s addr = %q; want the checked public address", ev.Protocol, ev.Addr)
		}
	}
}

func TestLoopbackListenerNeedsTheSecret(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	s, err := New(Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}}, Options{Resolver: newResolver()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ll, err := ListenLoopback("")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ll)
	u, _ := url.Parse(ll.URL())
	secret, _ := u.User.Password()
	if u.User.Username() != "cordon" || len(secret) != 64 {
		t.Fatalf("URL %q: want user cordon and a 32-byte hex secret", ll.URL())
	}
	addr := u.Host
	target := "allowed.test:" + port
	connect := func(auth string) string {
		req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
		if auth != "" {
			req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(auth)) + "\r\n"
		}
		c := dial(t, addr)
		defer c.Close()
		io.WriteString(c, req+"\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Status
	}
	socks := func(user *xproxy.Auth) error {
		d, _ := xproxy.SOCKS5("tcp", addr, user, xproxy.Direct)
		c, err := d.Dial("tcp", target)
		if err == nil {
			c.Close()
		}
		return err
	}
	for name, status := range map[string]string{
		"none":         connect(""),
		"wrong secret": connect("cordon:" + strings.Repeat("0", 64)),
		"wrong user":   connect("other:" + secret),
	} {
		if !strings.HasPrefix(status, "407") {
			t.Errorf("CONNECT with %s credentials: %s; want 407", name, status)
		}
	}
	if err := socks(nil); err == nil {
		t.Error("SOCKS5 without credentials succeeded")
	}
	if err := socks(&xproxy.Auth{User: "cordon", Password: "guess"}); err == nil {
		t.Error("SOCKS5 with a wrong secret succeeded")
	}
	if ok, r := viaHTTP(t, addr, target); ok {
		t.Errorf("plain HTTP without credentials went through (%s)", r)
	}
	if n, _ := up.stats(); n != 0 {
		t.Fatalf("destination accepted %d connections from clients without the secret", n)
	}
	// With the secret, all three work: the refusals above came from the
	// missing secret, not from a broken setup.
	if status := connect("cordon:" + secret); !strings.HasPrefix(status, "200") {
		t.Errorf("CONNECT with the secret: %s", status)
	}
	if err := socks(&xproxy.Auth{User: "cordon", Password: secret}); err != nil {
		t.Errorf("SOCKS5 with the secret: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u)}}
	resp, err := client.Get("http://" + target + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("plain HTTP with the secret: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if n, _ := up.stats(); n != 3 {
		t.Errorf("destination accepted %d connections; want 3", n)
	}
}

// The secret belongs to the connection, not to Serve: a caller that accepts
// from the loopback listener itself and hands connections to ServeConn gets
// the same protection.
func TestLoopbackSecretHoldsThroughServeConn(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	s, err := New(Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}}, Options{Resolver: newResolver()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ll, err := ListenLoopback("")
	if err != nil {
		t.Fatal(err)
	}
	defer ll.Close()
	go func() {
		for {
			c, err := ll.Accept()
			if err != nil {
				return
			}
			go s.ServeConn(c)
		}
	}()
	u, _ := url.Parse(ll.URL())
	if ok, r := viaCONNECT(t, u.Host, "allowed.test:"+port); ok || !strings.Contains(r, "407") {
		t.Errorf("CONNECT without the secret through ServeConn: ok=%v %s; want 407", ok, r)
	}
	if ok, r := viaSOCKS5Auth(t, u.Host, "allowed.test:"+port); ok {
		t.Errorf("SOCKS5 without the secret through ServeConn went through (%s)", r)
	}
	if n, _ := up.stats(); n != 0 {
		t.Fatalf("destination accepted %d connections; want none", n)
	}
	c, err := DialVia(context.Background(), u, "allowed.test", up.port)
	if err != nil {
		t.Fatalf("CONNECT with the secret: %v", err)
	}
	c.Close()
}

// viaSOCKS5Auth offers only "no authentication" and reports whether the
// proxy accepted that.
func viaSOCKS5Auth(t *testing.T, proxyAddr, _ string) (bool, string) {
	c := dial(t, proxyAddr)
	defer c.Close()
	c.Write([]byte{5, 1, 0})
	var sel [2]byte
	if _, err := io.ReadFull(c, sel[:]); err != nil {
		return false, err.Error()
	}
	return sel[1] == 0, fmt.Sprintf("method %#x", sel[1])
}

func TestListenLoopbackRefusesOtherAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "localhost:0", "127.0.0.1"} {
		if l, err := ListenLoopback(addr); err == nil {
			l.Close()
			t.Errorf("ListenLoopback(%q) succeeded; want a refusal", addr)
		}
	}
}

func TestUnixSocketAndServeConn(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	s, err := New(Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}}, Options{Resolver: newResolver()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	path := t.TempDir() + "/proxy.sock"
	l, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Serve accepted connections one by one through ServeConn, as the
	// sandbox's bridge hands them over.
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.ServeConn(c)
		}
	}()
	for proto, req := range map[string]string{
		"connect": "CONNECT allowed.test:" + port + " HTTP/1.1\r\n\r\n",
		"socks5":  "",
	} {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		if proto == "connect" {
			io.WriteString(c, req)
			resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("CONNECT over the unix socket: %v %v", resp, err)
			}
		} else {
			host := "allowed.test"
			msg := append([]byte{5, 1, 0, 5, 1, 0, 3, byte(len(host))}, host...)
			c.Write(append(msg, byte(up.port>>8), byte(up.port)))
			var reply [12]byte
			if _, err := io.ReadFull(br, reply[:]); err != nil || reply[3] != 0 {
				t.Fatalf("SOCKS5 over the unix socket: %v %v", reply, err)
			}
		}
		const msg = "over a unix socket"
		io.WriteString(c, msg)
		c.(*net.UnixConn).CloseWrite()
		got, _ := io.ReadAll(br)
		if string(got) != msg {
			t.Errorf("%s: echo %q; want %q", proto, got, msg)
		}
		c.Close()
	}
}

// A client may send several plain HTTP requests, with bodies, on one
// connection; each is checked and recorded on its own.
func TestHTTPKeepAlive(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	p := startProxy(t, Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}}, Options{})
	c := dial(t, p.addr)
	defer c.Close()
	br := bufio.NewReader(c)
	target := "allowed.test:" + port
	for i, req := range []string{
		"POST http://" + target + "/one HTTP/1.1\r\nHost: " + target + "\r\nContent-Length: 5\r\n\r\nhello",
		"POST http://" + target + "/two HTTP/1.1\r\nHost: " + target + "\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET http://" + target + "/three HTTP/1.1\r\nHost: " + target + "\r\n\r\n",
		"GET http://denied.test:" + port + "/four HTTP/1.1\r\nHost: denied.test:" + port + "\r\n\r\n",
	} {
		io.WriteString(c, req)
		resp, err := http.ReadResponse(br, nil)
		if err == nil && resp.StatusCode == http.StatusContinue {
			resp, err = http.ReadResponse(br, nil)
		}
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		want := http.StatusOK
		if i == 3 {
			want = http.StatusForbidden
		}
		if resp.StatusCode != want || want == 200 && string(body) != "hello from upstream" {
			t.Fatalf("request %d: %s %q", i, resp.Status, body)
		}
	}
	_, got := up.stats()
	for _, want := range []string{"POST /one host=" + target + " body=hello", "POST /two host=" + target + " body=abc", "GET /three host=" + target + " body="} {
		if !slices.Contains(got, want) {
			t.Errorf("destination got %q; want %q among them", got, want)
		}
	}
	if evs := p.eventsAfterClose(); len(evs) != 4 {
		t.Errorf("%d events; want one per request", len(evs))
	}
}

func TestMalformedRequestsAreRefusedAndRecorded(t *testing.T) {
	p := startProxy(t, Config{Mode: ModeProxy}, Options{})
	for _, tt := range []struct{ req, status string }{
		{"GET http://evil\x00.test/ HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"\r\nGET / HTTP/1.1\r\n\r\n", "400"},
		{"GET http://a.test/ HTTP/1.1\r\nX: " + strings.Repeat("a", 70<<10) + "\r\n\r\n", "431"},
		{"CONNECT a.test HTTP/1.1\r\n\r\n", "400"},
	} {
		ok, refusal := rawHTTP(t, p.addr, tt.req)
		if ok || !strings.HasPrefix(refusal, tt.status) {
			t.Errorf("%.40q: %v %.60q; want %s", tt.req, ok, refusal, tt.status)
		}
	}
	if evs := p.eventsAfterClose(); len(evs) < 2 {
		t.Errorf("events %+v; want the unparsable requests recorded", evs)
	}
}
