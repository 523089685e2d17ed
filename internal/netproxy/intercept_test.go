package netproxy

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testSecret      = "ghp_REALsecretVALUE0123456789abcdefABCD"
	testPlaceholder = "ghp_placeholderVALUE987654321zyxwvuZYXW"
)

// testCA is a CA of the test's own, standing in for a public CA or a
// company's: the proxy is told to trust it, as network.extra_ca would.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// serverCert signs a certificate for names (and 127.0.0.1).
func (ca *testCA) serverCert(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: names, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// seen is one request a test server received.
type seen struct {
	Method, Path, Host, Proto string
	Header                    http.Header
	Body                      string
}

// tlsServer is an HTTPS server (HTTP/2 and HTTP/1.1) on 127.0.0.1 with a
// certificate from ca, recording every request. /echo answers with the
// request's headers, in a header and in the body.
type tlsServer struct {
	*httptest.Server
	port int
	mu   sync.Mutex
	reqs []seen
}

func startTLSServer(t testing.TB, cert tls.Certificate) *tlsServer {
	t.Helper()
	s := &tlsServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{r.Method, r.URL.RequestURI(), r.Host, r.Proto, r.Header.Clone(), string(body)})
		s.mu.Unlock()
		if r.URL.Path == "/echo" {
			w.Header().Set("X-Echo-Authorization", r.Header.Get("Authorization"))
			fmt.Fprintf(w, "you sent: %v\n", r.Header)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/info/refs") || strings.HasSuffix(r.URL.Path, "/info/refs") {
			w.WriteHeader(http.StatusNotFound)
		}
		fmt.Fprintf(w, "hello %s\n", r.Proto)
	}))
	s.EnableHTTP2 = true
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	s.port = s.Listener.Addr().(*net.TCPAddr).Port
	return s
}

func (s *tlsServer) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

// interceptFixture is a proxy that injects testSecret into requests to
// api.test (and nothing into other.test), both served by test servers
// that the proxy trusts through the test CA.
type interceptFixture struct {
	proxy     *testProxy
	cordon    *CA
	serverCA  *testCA
	api       *tlsServer
	other     *tlsServer
	apiHost   string // api.test:PORT
	otherHost string
}

func newInterceptFixture(t testing.TB, injections ...Injection) *interceptFixture {
	t.Helper()
	return newInterceptFixtureWith(t, nil, injections...)
}

// newInterceptFixtureWith is newInterceptFixture with adjust applied to
// the proxy's Config and Options (given the fixture, for its hosts).
func newInterceptFixtureWith(t testing.TB, adjust func(*interceptFixture, *Config, *Options), injections ...Injection) *interceptFixture {
	t.Helper()
	f := &interceptFixture{serverCA: newTestCA(t)}
	var err error
	if f.cordon, err = NewCA(); err != nil {
		t.Fatal(err)
	}
	f.api = startTLSServer(t, f.serverCA.serverCert(t, "api.test"))
	f.other = startTLSServer(t, f.serverCA.serverCert(t, "other.test"))
	f.apiHost = "api.test:" + strconv.Itoa(f.api.port)
	f.otherHost = "other.test:" + strconv.Itoa(f.other.port)
	if len(injections) == 0 {
		injections = []Injection{{Name: "github", Hosts: []string{f.apiHost}, Placeholder: testPlaceholder, Secret: testSecret}}
	}
	for i := range injections {
		for j, h := range injections[i].Hosts {
			injections[i].Hosts[j] = strings.ReplaceAll(h, "API", f.apiHost)
		}
	}
	cfg := Config{Mode: ModeProxy, AllowPrivate: []string{f.apiHost, f.otherHost, "plain.test:" + strconv.Itoa(f.api.port)}}
	opts := Options{CA: f.cordon, Inject: injections, UpstreamRoots: f.serverCA.pool()}
	if adjust != nil {
		adjust(f, &cfg, &opts)
	}
	f.proxy = startProxy(t, cfg, opts, func(p *testProxy) {
		loop := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		p.resolver.addrs["api.test"] = loop
		p.resolver.addrs["other.test"] = loop
		p.resolver.addrs["plain.test"] = loop
	})
	return f
}

// client is a sandboxed tool's HTTP client: through the proxy, trusting
// roots.
func (f *interceptFixture) client(roots *x509.CertPool, h2 bool) *http.Client {
	tr := &http.Transport{
		Proxy:             http.ProxyURL(&url.URL{Scheme: "http", Host: f.proxy.addr}),
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: h2,
	}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Minute}
}

func (f *interceptFixture) cordonPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(f.cordon.Certificate())
	return p
}

func get(t *testing.T, c *http.Client, u string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// noSecretIn fails when any event, rendered as JSON and with %v, holds the
// secret.
func noSecretIn(t *testing.T, events []ConnEvent) {
	t.Helper()
	for _, ev := range events {
		j, _ := json.Marshal(ev)
		if strings.Contains(string(j), testSecret) || strings.Contains(fmt.Sprintf("%+v", ev), testSecret) {
			t.Errorf("an event holds the secret: %s", j)
		}
	}
}

func TestInterceptInjectsIntoScopedHost(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			f := newInterceptFixture(t)
			c := f.client(f.cordonPool(), h2)

			resp, body := get(t, c, "https://"+f.apiHost+"/user", "Authorization", "Bearer "+testPlaceholder)
			if resp.StatusCode != 200 {
				t.Fatalf("status %s: %s", resp.Status, body)
			}
			if got := resp.TLS.PeerCertificates[0].Issuer.CommonName; got != f.cordon.Certificate().Subject.CommonName {
				t.Errorf("the client saw a certificate issued by %q, not by cordon's CA", got)
			}
			wantProto := map[bool]int{true: 2, false: 1}[h2]
			if resp.ProtoMajor != wantProto {
				t.Errorf("the client spoke %s, want HTTP/%d", resp.Proto, wantProto)
			}
			// No header at all: the proxy adds it.
			get(t, c, "https://"+f.apiHost+"/nohdr")

			reqs := f.api.requests()
			if len(reqs) != 2 {
				t.Fatalf("the server got %d requests, want 2", len(reqs))
			}
			for _, r := range reqs {
				if got := r.Header.Get("Authorization"); got != "Bearer "+testSecret {
					t.Errorf("%s: the server got Authorization %q, want the secret", r.Path, got)
				}
				if r.Host != f.apiHost {
					t.Errorf("%s: Host %q", r.Path, r.Host)
				}
			}
			// The server offers both; it hears the client's own protocol.
			for _, r := range reqs {
				if want := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[h2]; r.Proto != want {
					t.Errorf("%s: the proxy spoke %s to the server, want the client's %s", r.Path, r.Proto, want)
				}
			}

			evs := f.proxy.eventsAfterClose()
			noSecretIn(t, evs)
			if sum := f.proxy.Summary(); sum.Connections != 1 || sum.Requests != 2 || sum.Denied != 0 {
				t.Errorf("summary %+v, want 1 connection carrying 2 requests", sum)
			}
			var tunnels, requests int
			for _, ev := range evs {
				switch ev.Protocol {
				case ProtoConnect:
					tunnels++
					if !ev.Intercepted || !ev.Allowed || ev.BytesReceived == 0 {
						t.Errorf("tunnel event %+v", ev)
					}
				case ProtoHTTPS:
					requests++
					if ev.Credential != "github" || !ev.Injected || ev.Status != 200 || ev.Method != "GET" || ev.Host != "api.test" || !strings.HasPrefix(ev.Path, "/") {
						t.Errorf("request event %+v", ev)
					}
				}
			}
			if tunnels != 1 || requests != 2 {
				t.Errorf("%d tunnel and %d request events, want 1 and 2: %+v", tunnels, requests, evs)
			}
		})
	}
}

func TestInterceptFormats(t *testing.T) {
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	for _, tc := range []struct {
		name     string
		inj      Injection
		send     []string // header name, value
		header   string
		want     string
		injected bool
	}{
		{"bearer added", Injection{}, nil, "Authorization", "Bearer " + testSecret, true},
		{"gh's token scheme swapped", Injection{}, []string{"Authorization", "token " + testPlaceholder}, "Authorization", "token " + testSecret, true},
		{"basic swapped inside base64", Injection{ValueFormat: FormatBasic}, []string{"Authorization", basic("alice", testPlaceholder)}, "Authorization", basic("alice", testSecret), true},
		{"basic added", Injection{ValueFormat: FormatBasic, User: "bob"}, nil, "Authorization", basic("bob", testSecret), true},
		{"basic default user", Injection{ValueFormat: FormatBasic}, nil, "Authorization", basic(DefaultBasicUser, testSecret), true},
		{"custom header raw", Injection{Header: "x-api-key"}, []string{"X-Api-Key", testPlaceholder}, "X-Api-Key", testSecret, true},
		{"custom header added", Injection{Header: "X-Api-Key"}, nil, "X-Api-Key", testSecret, true},
		{"the client's own value stays", Injection{}, []string{"Authorization", "Bearer mine-own-token"}, "Authorization", "Bearer mine-own-token", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inj := tc.inj
			inj.Name, inj.Hosts, inj.Placeholder, inj.Secret = "cred", []string{"API"}, testPlaceholder, testSecret
			f := newInterceptFixture(t, inj)
			resp, body := get(t, f.client(f.cordonPool(), true), "https://"+f.apiHost+"/x", tc.send...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %s: %s", resp.Status, body)
			}
			reqs := f.api.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			if got := reqs[0].Header.Get(tc.header); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.header, got, tc.want)
			}
			for name, vals := range reqs[0].Header {
				if name != tc.header && strings.Contains(strings.Join(vals, " "), testSecret) {
					t.Errorf("the secret is also in %s", name)
				}
			}
			var injected bool
			for _, ev := range f.proxy.eventsAfterClose() {
				if ev.Protocol == ProtoHTTPS {
					injected = ev.Injected
				}
			}
			if injected != tc.injected {
				t.Errorf("event says injected=%v, want %v", injected, tc.injected)
			}
		})
	}
}

// TestOtherHostsAreTunnelled: a host no credential names is a plain
// tunnel: the client sees the server's own certificate (so a client
// trusting only cordon's CA fails), and a placeholder sent there arrives as
// the worthless placeholder, never as the secret.
func TestOtherHostsAreTunnelled(t *testing.T) {
	f := newInterceptFixture(t)
	if _, err := f.client(f.cordonPool(), true).Get("https://" + f.otherHost + "/"); err == nil {
		t.Fatal("a client trusting only cordon's CA reached other.test: the proxy intercepted a host no credential names")
	}
	resp, _ := get(t, f.client(f.serverCA.pool(), true), "https://"+f.otherHost+"/leak", "Authorization", "Bearer "+testPlaceholder)
	if resp.StatusCode != 200 {
		t.Fatalf("status %s", resp.Status)
	}
	if got := resp.TLS.PeerCertificates[0].Issuer.CommonName; got != "test CA" {
		t.Errorf("the client saw a certificate issued by %q, want the server's own", got)
	}
	for _, r := range f.other.requests() {
		if strings.Contains(fmt.Sprint(r.Header), testSecret) {
			t.Errorf("ESCAPED: the secret reached a host no credential names: %v", r.Header)
		}
	}
	evs := f.proxy.eventsAfterClose()
	noSecretIn(t, evs)
	for _, ev := range evs {
		if ev.Intercepted || ev.Protocol == ProtoHTTPS {
			t.Errorf("other.test was intercepted: %+v", ev)
		}
	}
}

// TestPlaceholderOutOfScopeIsRefused: the placeholder sent where its
// secret is not injected is refused and recorded, and the server gets
// nothing.
func TestPlaceholderOutOfScopeIsRefused(t *testing.T) {
	inj := []Injection{
		{Name: "github", Hosts: []string{"API"}, Paths: []string{"/repos/acme/"}, Placeholder: testPlaceholder, Secret: testSecret},
	}
	f := newInterceptFixture(t, inj...)
	c := f.client(f.cordonPool(), true)
	for _, tc := range []struct {
		path, header, value string
		status              int
		injected            bool
	}{
		{"/repos/acme/app/pulls", "Authorization", "Bearer " + testPlaceholder, 200, true},
		{"/repos/acme/app?token=" + testPlaceholder, "", "", 403, false},
		{"/repos/acme/app", "X-Other", testPlaceholder, 403, false},
		{"/repos/other/app", "Authorization", "Bearer " + testPlaceholder, 403, false},
		{"/repos/acme/../other/app", "Authorization", "Bearer " + testPlaceholder, 403, false},
		{"/repos/acme/%2e%2e/other/app", "Authorization", "Bearer " + testPlaceholder, 403, false},
		{"/repos/other/app", "", "", 200, false}, // outside the paths, no placeholder: passed on as it is
	} {
		var hdr []string
		if tc.header != "" {
			hdr = []string{tc.header, tc.value}
		}
		before := len(f.api.requests())
		resp, body := get(t, c, "https://"+f.apiHost+tc.path, hdr...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d: %s", tc.path, tc.header, resp.StatusCode, tc.status, body)
			continue
		}
		reqs := f.api.requests()
		if tc.status == 403 {
			if len(reqs) != before {
				t.Errorf("%s: the server got a refused request", tc.path)
			}
			if resp.Header.Get("X-Cordon-Denied") == "" || !strings.Contains(body, `credential "github"`) {
				t.Errorf("%s: the refusal does not say why: %q %s", tc.path, resp.Header.Get("X-Cordon-Denied"), body)
			}
			continue
		}
		got := reqs[len(reqs)-1].Header.Get("Authorization")
		if tc.injected != (got == "Bearer "+testSecret) || !tc.injected && strings.Contains(got, testSecret) {
			t.Errorf("%s: Authorization %q", tc.path, got)
		}
	}
	evs := f.proxy.eventsAfterClose()
	noSecretIn(t, evs)
	refused := 0
	for _, ev := range evs {
		if ev.Protocol == ProtoHTTPS && !ev.Allowed {
			refused++
			if ev.Credential != "github" || ev.Reason == "" || ev.Status != 403 {
				t.Errorf("refusal event %+v", ev)
			}
		}
	}
	if refused != 5 {
		t.Errorf("%d refusals recorded, want 5", refused)
	}
}

// TestPlaceholderOverPlainHTTPIsRefused: plain HTTP never gets a secret;
// a request carrying a placeholder (even hidden in Basic credentials) is
// refused before anything is dialled, and recorded.
func TestPlaceholderOverPlainHTTPIsRefused(t *testing.T) {
	f := newInterceptFixture(t)
	up := startUpstream(t)
	f.proxy.resolver.addrs["plain.test"] = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	basic := base64.StdEncoding.EncodeToString([]byte("u:" + testPlaceholder))
	for _, hdr := range []string{"Authorization: Bearer " + testPlaceholder, "Authorization: Basic " + basic, "X-Anything: " + testPlaceholder} {
		ok, refusal := rawHTTP(t, f.proxy.addr, fmt.Sprintf("GET http://plain.test:%d/ HTTP/1.1\r\nHost: plain.test:%d\r\n%s\r\n\r\n", up.port, up.port, hdr))
		if ok || !strings.Contains(refusal, "403") || !strings.Contains(refusal, "placeholder") {
			t.Errorf("%s: ok=%v %s", hdr, ok, refusal)
		}
	}
	if n, _ := up.stats(); n != 0 {
		t.Errorf("the destination got %d connections", n)
	}
	for _, ev := range f.proxy.eventsAfterClose() {
		if ev.Protocol == ProtoHTTP && (ev.Credential != "github" || ev.Allowed) {
			t.Errorf("event %+v", ev)
		}
	}
}

// TestUpstreamCertificateIsVerified: a server whose certificate the proxy
// cannot verify is refused before the client sends anything, with the
// reason in the answer and the event.
func TestUpstreamCertificateIsVerified(t *testing.T) {
	f := newInterceptFixture(t)
	rogue := newTestCA(t)
	bad := startTLSServer(t, rogue.serverCert(t, "api.test"))
	wrongName := startTLSServer(t, f.serverCA.serverCert(t, "not-api.test"))
	for _, srv := range []*tlsServer{bad, wrongName} {
		host := "api.test:" + strconv.Itoa(srv.port)
		inj := Injection{Name: "github", Hosts: []string{host}, Placeholder: testPlaceholder, Secret: testSecret}
		p := startProxy(t, Config{Mode: ModeProxy, AllowPrivate: []string{host}},
			Options{CA: f.cordon, Inject: []Injection{inj}, UpstreamRoots: f.serverCA.pool()},
			func(p *testProxy) { p.resolver.addrs["api.test"] = []netip.Addr{netip.MustParseAddr("127.0.0.1")} })
		c := dial(t, p.addr)
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(resp.Header.Get("X-Cordon-Error"), "failed verification") {
			t.Errorf("%s: %s %q", host, resp.Status, resp.Header.Get("X-Cordon-Error"))
		}
		if len(srv.requests()) != 0 {
			t.Errorf("%s: the server got a request", host)
		}
		evs := p.eventsAfterClose()
		if len(evs) != 1 || !strings.Contains(evs[0].Reason, "failed verification") {
			t.Errorf("%s: events %+v", host, evs)
		}
	}
}

// TestEchoedSecretIsScrubbed: a server that echoes the request cannot hand
// the secret to the sandbox, in a header or the body.
func TestEchoedSecretIsScrubbed(t *testing.T) {
	f := newInterceptFixture(t)
	resp, body := get(t, f.client(f.cordonPool(), true), "https://"+f.apiHost+"/echo", "Authorization", "Bearer "+testPlaceholder)
	if got := f.api.requests()[0].Header.Get("Authorization"); got != "Bearer "+testSecret {
		t.Fatalf("the server got %q", got)
	}
	if strings.Contains(body, testSecret) || strings.Contains(fmt.Sprint(resp.Header), testSecret) {
		t.Errorf("ESCAPED: the echoed secret reached the client: %v %s", resp.Header, body)
	}
	if !strings.Contains(body, testPlaceholder) || resp.Header.Get("X-Echo-Authorization") != "Bearer "+testPlaceholder {
		t.Errorf("the echo does not show the placeholder in the secret's place: %v %s", resp.Header, body)
	}
}

func drain(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	return b
}

// TestInterceptOverSOCKS5: a client reaching a scoped host through SOCKS5
// is intercepted too.
func TestInterceptOverSOCKS5(t *testing.T) {
	f := newInterceptFixture(t)
	tr := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "socks5", Host: f.proxy.addr}), TLSClientConfig: &tls.Config{RootCAs: f.cordonPool()}, ForceAttemptHTTP2: true}
	resp, body := get(t, &http.Client{Transport: tr, Timeout: 10 * time.Minute}, "https://"+f.apiHost+"/s")
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %s", resp.Status, body)
	}
	if got := f.api.requests()[0].Header.Get("Authorization"); got != "Bearer "+testSecret {
		t.Errorf("Authorization %q", got)
	}
}

func TestNewChecksInjections(t *testing.T) {
	ca, _ := NewCA()
	good := Injection{Name: "a", Hosts: []string{"api.test"}, Placeholder: testPlaceholder, Secret: testSecret}
	cfg := Config{Mode: ModeProxy}
	if _, err := New(cfg, Options{Inject: []Injection{good}}); err == nil {
		t.Error("injections without a CA were accepted")
	}
	for _, bad := range []func(*Injection){
		func(i *Injection) { i.Placeholder = "short" },
		func(i *Injection) { i.Secret = "x" + testPlaceholder },
		func(i *Injection) { i.Secret = "line\nbreak-secret" },
		func(i *Injection) { i.Hosts = nil },
		func(i *Injection) { i.Hosts = []string{"api.test:80"} },
		func(i *Injection) { i.Header = "Host" },
		func(i *Injection) { i.Header = "bad header" },
		func(i *Injection) { i.ValueFormat = "digest" },
		func(i *Injection) { i.User = "u" },
		func(i *Injection) { i.Paths = []string{"repos"} },
		func(i *Injection) { i.Paths = []string{"/a/../b"} },
	} {
		inj := good
		bad(&inj)
		_, err := New(cfg, Options{CA: ca, Inject: []Injection{inj}})
		if err == nil {
			t.Errorf("accepted %+v", inj)
		} else if strings.Contains(err.Error(), inj.Secret) {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
	if _, err := New(cfg, Options{CA: ca, Inject: []Injection{good, {Name: "b", Hosts: []string{"x.test"}, Placeholder: testPlaceholder, Secret: "another-secret-value"}}}); err == nil {
		t.Error("two credentials with one placeholder were accepted")
	}
	if s := fmt.Sprintf("%v %+v %#v %s", good, good, good, good); strings.Contains(s, testSecret) {
		t.Errorf("printing an Injection shows the secret: %s", s)
	}
	if j, _ := json.Marshal(good); strings.Contains(string(j), testSecret) {
		t.Errorf("JSON of an Injection holds the secret: %s", j)
	}
}

// BenchmarkInterceptThroughput downloads benchBytes over HTTPS through the
// proxy, from a tunnelled host (TLS end to end) and from an intercepted one
// (TLS to the proxy and again to the host, the secret injected), with each
// HTTP version to the client (bench/proxy/run.sh prints the ratios):
//
//	go test -run '^$' -bench InterceptThroughput -benchtime 1x ./internal/netproxy/
func BenchmarkInterceptThroughput(b *testing.B) {
	f := newInterceptFixture(b)
	chunk := make([]byte, 256<<10)
	big := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(benchBytes))
		for sent := 0; sent < benchBytes; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
	f.api.Config.Handler = http.HandlerFunc(big)
	f.other.Config.Handler = http.HandlerFunc(big)
	roots := f.cordonPool()
	roots.AddCert(f.serverCA.cert)
	for _, tc := range []struct {
		name, host string
		h2         bool
	}{
		{"tunnel/h2", f.otherHost, true}, {"intercepted/h2", f.apiHost, true},
		{"tunnel/h1", f.otherHost, false}, {"intercepted/h1", f.apiHost, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := f.client(roots, tc.h2)
			b.SetBytes(benchBytes)
			cpu0, cpuOK := processCPU()
			for b.Loop() {
				resp, err := c.Get("https://" + tc.host + "/big")
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.CopyBuffer(io.Discard, resp.Body, make([]byte, 256<<10))
				resp.Body.Close()
				if err != nil || n != benchBytes {
					b.Fatalf("got %d bytes: %v", n, err)
				}
			}
			// The client, the server and the proxy share the process:
			// this is the CPU the whole download cost.
			if cpu1, ok := processCPU(); ok && cpuOK {
				b.ReportMetric(float64((cpu1-cpu0).Milliseconds())/float64(b.N), "CPU-ms/GiB")
			}
		})
	}
}

// TestInjectedStreamFlows: a streamed response (server-sent events) to a
// request the secret was injected into reaches the client event by event:
// the scrubbing of an echoed secret holds back only bytes that could begin
// it, not the end of every event. The server sends the second event only
// after the client got the first.
func TestInjectedStreamFlows(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			f := newInterceptFixture(t)
			got1 := make(chan struct{})
			f.api.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: one "+r.Header.Get("Authorization")+"\n\n")
				w.(http.Flusher).Flush()
				select {
				case <-got1:
				case <-time.After(15 * time.Second):
					return
				}
				io.WriteString(w, "data: two\n\n")
			})
			c := f.client(f.cordonPool(), h2)
			resp, err := c.Get("https://" + f.apiHost + "/events")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			first := "data: one Bearer " + testPlaceholder + "\n\n" // the echoed secret, scrubbed
			buf := make([]byte, len(first))
			done := make(chan error, 1)
			go func() { _, err := io.ReadFull(resp.Body, buf); done <- err }()
			select {
			case err := <-done:
				if err != nil || string(buf) != first {
					t.Fatalf("first event %q, %v; want %q", buf, err, first)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the first event did not arrive before the server sent more: the proxy held it back")
			}
			close(got1)
			rest, err := io.ReadAll(resp.Body)
			if err != nil || string(rest) != "data: two\n\n" {
				t.Errorf("then %q, %v", rest, err)
			}
		})
	}
}
