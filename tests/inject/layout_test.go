//go:build linux

package inject

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

// layout is the host side of one test: a root directory (under
// testbin.Base, not the sandbox's private /tmp) holding a home with a
// workspace, owned by the user cordon runs as, and `cordon run` run as
// that user with a policy file outside the workspace.
type layout struct {
	t              *testing.T
	uid            int
	root, home, ws string
	policy         string
	extra          []string // flags of cordon run
	env            []string // cordon's own environment, besides HOME, PATH and LANG
	outputs        []string // everything cordon and the commands printed
}

func newLayout(t *testing.T, uid int, extra []string) *layout {
	root, err := os.MkdirTemp(testbin.Base, "cordon-inject-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	root, _ = filepath.EvalSymlinks(root)
	os.Chmod(root, 0o755)
	l := &layout{t: t, uid: uid, root: root, home: filepath.Join(root, "home"), extra: extra,
		policy: filepath.Join(root, "policy.toml")}
	l.ws = filepath.Join(l.home, "src", "project")
	if err := os.MkdirAll(l.ws, 0o755); err != nil {
		t.Fatal(err)
	}
	l.chownAll()
	return l
}

// write writes a file below root (making its directories), owned by the
// layout's user.
func (l *layout) write(path, content string, mode os.FileMode) {
	l.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		l.t.Fatal(err)
	}
	os.Chmod(path, mode)
	for p := path; strings.HasPrefix(p, l.root); p = filepath.Dir(p) {
		os.Lchown(p, l.uid, l.uid)
	}
}

// chownAll gives everything below root to the layout's user.
func (l *layout) chownAll() {
	filepath.Walk(l.root, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			os.Lchown(p, l.uid, l.uid)
		}
		return nil
	})
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs argv with cordon run --policy P in the workspace, as the
// layout's user, with only l.env of the caller's environment.
func (l *layout) run(argv ...string) result {
	l.t.Helper()
	args := append([]string{"run", "--policy", l.policy}, l.extra...)
	cmd := exec.Command(cordonBin, append(append(args, "--"), argv...)...)
	cmd.Dir = l.ws
	cmd.Env = append([]string{"HOME=" + l.home, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}, l.env...)
	if l.uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(l.uid), Gid: uint32(l.uid)}}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{out.String(), errb.String(), 0}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		l.t.Fatalf("run %v: %v", argv, err)
	}
	if r.code == 125 {
		l.t.Fatalf("cordon could not set up the run (exit 125): %s", r.stderr)
	}
	l.outputs = append(l.outputs, r.stdout, r.stderr)
	return r
}

// mustRun runs argv and fails the test unless it exits 0.
func (l *layout) mustRun(argv ...string) result {
	l.t.Helper()
	r := l.run(argv...)
	if r.code != 0 {
		l.t.Fatalf("%q: exit %d\nstdout: %s\nstderr: %s", argv, r.code, r.stdout, r.stderr)
	}
	return r
}

// auditLog is the run's audit trail, as the host reads it.
func (l *layout) auditLog() []byte {
	l.t.Helper()
	data, err := os.ReadFile(filepath.Join(l.home, ".local", "state", "cordon", "audit.jsonl"))
	if err != nil {
		l.t.Fatalf("reading the audit log: %v", err)
	}
	return data
}

// requestEvent is the part of a network_connection event these tests read.
type requestEvent struct {
	Kind, Protocol, Host, Decision, Rule, Method, Path, Credential, Error, Reason string
	Port, Status                                                                  int
	Injected, Intercepted                                                         bool
}

// requestEvents are the audit trail's network_connection events.
func (l *layout) requestEvents() []requestEvent {
	var out []requestEvent
	for _, line := range bytes.Split(l.auditLog(), []byte("\n")) {
		var ev requestEvent
		if json.Unmarshal(line, &ev) == nil && ev.Kind == "network_connection" {
			out = append(out, ev)
		}
	}
	return out
}

// checkSecretNowhere judges from the host side that secret is in no file
// below root but the except files (where it came from), in nothing cordon
// or the commands printed, and so in no audit line.
func (l *layout) checkSecretNowhere(t *testing.T, secret string, except ...string) {
	t.Helper()
	filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		for _, e := range except {
			if p == e {
				return nil
			}
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
			t.Errorf("ESCAPED: the secret is in %s", p)
		}
		return nil
	})
	for _, out := range l.outputs {
		if strings.Contains(out, secret) {
			t.Errorf("ESCAPED: the secret was printed: %s", out)
		}
	}
}

// approver returns the policy's [approval] table naming a program outside
// the sandbox that records each question it is asked (one JSON object a
// line, read back by questions) and answers with what setAnswer wrote last.
func (l *layout) approver() string {
	prog := filepath.Join(l.root, "approver.sh")
	l.write(prog, fmt.Sprintf("#!/bin/sh\n{ cat; echo; } >> %q\ncat %q\n",
		filepath.Join(l.root, "questions.jsonl"), filepath.Join(l.root, "answer.json")), 0o755)
	l.setAnswer("deny", "")
	return fmt.Sprintf("\n[approval]\napprover = [%q]\n", prog)
}

// setAnswer sets what the approver answers from now on.
func (l *layout) setAnswer(decision, scope string) {
	a, _ := json.Marshal(map[string]string{"decision": decision, "scope": scope, "approver": "inject-test"})
	if scope == "" {
		a, _ = json.Marshal(map[string]string{"decision": decision, "approver": "inject-test"})
	}
	l.write(filepath.Join(l.root, "answer.json"), string(a)+"\n", 0o644)
}

// question is the part of an approver's question these tests read.
type question struct {
	Kind, Command, Category, Rule, Reason string
}

// questions are the questions the approver was asked, in order.
func (l *layout) questions() []question {
	data, _ := os.ReadFile(filepath.Join(l.root, "questions.jsonl"))
	var out []question
	for _, line := range bytes.Split(data, []byte("\n")) {
		var q question
		if json.Unmarshal(line, &q) == nil && q.Kind != "" {
			out = append(out, q)
		}
	}
	return out
}

func users() []struct {
	name string
	uid  int
} {
	return []struct {
		name string
		uid  int
	}{{"root", 0}, {"nobody", 65534}}
}

var modes = []struct {
	name  string
	extra []string
}{{"namespaces", nil}, {"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}}}

// inEveryMode runs test as a subtest for each mode and user: the cordon
// run flags of the mode, and the uid to run as.
func inEveryMode(t *testing.T, test func(t *testing.T, uid int, extra []string)) {
	for _, mode := range modes {
		for _, u := range users() {
			t.Run(mode.name+"/"+u.name, func(t *testing.T) { test(t, u.uid, mode.extra) })
		}
	}
}

// need skips (or, under testbin.RequireEnv, fails) a test whose client is
// not installed.
func need(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := exec.LookPath(p); err != nil {
			testbin.RequireOrSkip(t, p+" is not installed; this test runs it inside the sandbox")
		}
	}
}

func randomAlnum(n int) string {
	const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = abc[int(b[i])%len(abc)]
	}
	return string(b)
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{c, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf is a server certificate for host, an IP address or a name
// (default 127.0.0.1), signed by ca.
func (ca *testCA) leaf(t *testing.T, host ...string) tls.Certificate {
	name := "127.0.0.1"
	if len(host) > 0 {
		name = host[0]
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// writeCA writes ca's certificate where a policy's extra_ca can name it.
func (l *layout) writeCA(ca *testCA) string {
	p := filepath.Join(l.root, "test-ca.pem")
	l.write(p, string(ca.pem), 0o644)
	return p
}

// server is an HTTPS server on the host recording what it receives.
type server struct {
	*httptest.Server
	port int
	mu   sync.Mutex
	got  []http.Header
	urls []string
	reqs []string // METHOD PATH, in order
}

// startServer starts a server on 127.0.0.1 that answers every request
// with a greeting.
func startServer(t *testing.T, cert tls.Certificate) *server {
	return startServerAt(t, "127.0.0.1:0", cert, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s over %s\n", r.URL.Path, r.Proto)
	}))
}

// startServerAt starts a server listening on addr that records each
// request and then hands it to h.
func startServerAt(t *testing.T, addr string, cert tls.Certificate, h http.Handler) *server {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s (Linux's loopback is 127.0.0.0/8): %v", addr, err)
	}
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.got = append(s.got, r.Header.Clone())
		s.urls = append(s.urls, r.URL.Path)
		s.reqs = append(s.reqs, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	s.Listener.Close()
	s.Listener = ln
	s.EnableHTTP2 = true
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the proxy refusing a rogue server's certificate is expected
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	s.port = s.Listener.Addr().(*net.TCPAddr).Port
	return s
}

// hostPort is the server's address as policies and URLs name it.
func (s *server) hostPort() string {
	return net.JoinHostPort(s.Listener.Addr().(*net.TCPAddr).IP.String(), strconv.Itoa(s.port))
}

// received returns the headers of the requests for path.
func (s *server) received(path string) []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []http.Header
	for i, u := range s.urls {
		if u == path {
			out = append(out, s.got[i])
		}
	}
	return out
}

// requests returns METHOD PATH of every request received, in order.
func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

// headers returns the headers of every request received, in order.
func (s *server) headers() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.got...)
}

func (s *server) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.urls, s.got)
}

// machineName returns this machine's host name and the address it
// resolves to, where a test server can listen. Unlike localhost, the name
// is not in the sandbox's NO_PROXY, so clients send their requests for it
// through cordon's proxy, which resolves it (to a loopback or private
// address, which the policy must allow with allow_private). Clients that
// cannot reach a registry by IP address through a proxy (npm) need a name.
func machineName(t *testing.T) (name, addr string) {
	t.Helper()
	name, err := os.Hostname()
	if err == nil {
		var addrs []string
		if addrs, err = net.LookupHost(name); err == nil {
			for _, a := range addrs {
				if ln, lerr := net.Listen("tcp", net.JoinHostPort(a, "0")); lerr == nil {
					ln.Close()
					return name, a
				}
			}
			err = fmt.Errorf("it resolves to %v, none of them on this machine", addrs)
		}
	}
	testbin.RequireOrSkip(t, fmt.Sprintf("this test needs a name for this machine that is not localhost (the host name %q: %v); add it to /etc/hosts", name, err))
	return "", ""
}

// scopedAddr is where the tests of real clients listen: a loopback address
// that is not in the sandbox's NO_PROXY (localhost, 127.0.0.1, ::1), so
// that git sends its requests through cordon's proxy as it would to a
// remote host; inside the sandbox's network namespace
// nothing else listens there.
const scopedAddr = "127.0.0.2"
