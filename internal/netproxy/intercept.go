package netproxy

import (
	"github.com/cordon-sandbox/cordon/policy/netpolicy"

	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ProtoHTTPS names the events of requests inside an intercepted connection.
const ProtoHTTPS = "https"

// upstreamRoots is the pool intercepted hosts are verified against: the
// system's roots plus the PEM certificates in extra.
func upstreamRoots(extra []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if len(extra) > 0 && !pool.AppendCertsFromPEM(extra) {
		return nil, errors.New("holds no PEM certificate")
	}
	return pool, nil
}

// session is one intercepted connection: the client's TLS, ended by the
// proxy with a certificate from its CA, and the proxy's own verified TLS
// connections to the one host the client asked for.
type session struct {
	s    *Server
	t    target
	host string // as events name it
	port int
	addr string // the address first dialled
	rule string

	// Requests go to the host in the client's own protocol, so that the
	// host sees what it would without the proxy and no request pays for
	// a translation: h2 forwards an HTTP/2 client's requests over HTTP/2
	// (or HTTP/1.1 if the host offers only that), h1 an HTTP/1.1
	// client's, upgrades (WebSocket) included, over HTTP/1.1 on
	// connections that offered the host nothing else.
	h2, h1 *http.Transport
	// first is the connection made while the client waited for its
	// CONNECT answer; a transport takes it before dialling any other (h1
	// only when the host chose HTTP/1.1 on it).
	firstMu sync.Mutex
	first   *tls.Conn

	sent, received atomic.Int64 // upstream bytes, TLS included
	active         sync.WaitGroup
	// client is the client's TLS connection, which an upgrade hijacks.
	client *tls.Conn
}

// intercept serves a connection to a host a credential is injected into.
// upstream is the connection open dialled after every check; established
// answers the client's CONNECT or SOCKS5 request, fail refuses it. The
// upstream TLS handshake, with full verification, comes first, so that a
// host whose certificate fails is refused before the client sends anything.
func (s *Server) intercept(client net.Conn, pending []byte, upstream net.Conn, ev *ConnEvent, established func() error, fail func(*refusal)) {
	ev.Intercepted = true
	t, _ := netpolicy.ParseHost(ev.Host)
	t.Port = ev.Port
	sess := &session{s: s, t: t, host: ev.Host, port: ev.Port, addr: ev.Addr, rule: ev.Rule}
	defer func() { ev.BytesSent, ev.BytesReceived = sess.sent.Load(), sess.received.Load() }()
	tc, err := sess.handshake(s.ctx, upstream, alpnAny)
	if err != nil {
		ev.Reason = err.Error()
		fail(&refusal{status: http.StatusBadGateway, socksCode: socksGeneralFailure, reason: ev.Reason})
		return
	}
	sess.first = tc
	sess.h2 = &http.Transport{
		Proxy: nil,
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return sess.dialTLS(ctx, alpnAny)
		},
		ForceAttemptHTTP2:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 1 << 20,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
	}
	sess.h1 = &http.Transport{
		Proxy: nil,
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return sess.dialTLS(ctx, alpnHTTP1)
		},
		// A non-nil, empty map: never HTTP/2, whatever a connection says.
		TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{},
		DisableCompression:     true,
		MaxResponseHeaderBytes: 1 << 20,
		MaxIdleConnsPerHost:    1, // an HTTP/1.1 client sends one request at a time
		IdleConnTimeout:        90 * time.Second,
	}
	defer sess.h2.CloseIdleConnections()
	defer sess.h1.CloseIdleConnections()
	defer sess.closeFirst()
	if established() != nil {
		return
	}
	leaf, err := s.opts.CA.leaf(t.Host())
	if err != nil {
		ev.Reason = "making a certificate for the client failed: " + err.Error()
		return
	}
	ctls := tls.Server(&pendingConn{Conn: client, pending: pending}, &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{*leaf},
		NextProtos:   []string{"h2", "http/1.1"},
	})
	hctx, cancel := context.WithTimeout(s.ctx, s.opts.HandshakeTimeout)
	err = ctls.HandshakeContext(hctx)
	cancel()
	if err != nil {
		ev.Reason = fmt.Sprintf("the client's TLS handshake failed (%v); a client that does not trust cordon's CA refuses the connection: see docs/network.md, \"Interception\"", err)
		return
	}
	sess.client = ctls
	if ctls.ConnectionState().NegotiatedProtocol != "h2" && tc.ConnectionState().NegotiatedProtocol == "h2" {
		// Nothing of this client's will go over HTTP/2: h1 dials a
		// connection of its own.
		sess.closeFirst()
	}
	sess.serve(ctls)
}

// closeFirst closes the first connection unless a transport took it.
func (sess *session) closeFirst() {
	sess.firstMu.Lock()
	defer sess.firstMu.Unlock()
	if sess.first != nil {
		sess.first.Close()
		sess.first = nil
	}
}

// The protocols the proxy offers an intercepted host (ALPN): either, or
// HTTP/1.1 alone for an upgrade.
var (
	alpnAny   = []string{"h2", "http/1.1"}
	alpnHTTP1 = []string{"http/1.1"}
)

// handshake makes a verified TLS client connection to the session's host
// over conn, offering protos, counting its bytes and closing it with the
// server.
func (sess *session) handshake(ctx context.Context, conn net.Conn, protos []string) (*tls.Conn, error) {
	counted := &sessionConn{Conn: conn, sess: sess}
	tc := tls.Client(counted, &tls.Config{
		ServerName: sess.t.Host(), // an IP address is checked against the certificate's IP addresses
		RootCAs:    sess.s.roots,
		MinVersion: tls.VersionTLS12,
		NextProtos: protos,
	})
	ctx, cancel := context.WithTimeout(ctx, sess.s.opts.DialTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, upstreamTLSError(sess.t.HostPort(), err)
	}
	return tc, nil
}

func upstreamTLSError(dest string, err error) error {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return fmt.Errorf("the certificate of %s failed verification: %v; cordon checks intercepted hosts against the system's CAs and the file network.extra_ca names", dest, cve.Err)
	}
	return fmt.Errorf("TLS with %s failed: %v", dest, err)
}

// dialTLS gives a transport the first connection, if the host chose a
// protocol on it that protos allow, then dials again through every check
// (policy, resolution, address) for each further one.
func (sess *session) dialTLS(ctx context.Context, protos []string) (net.Conn, error) {
	sess.firstMu.Lock()
	c := sess.first
	if c != nil && (len(protos) > 1 || c.ConnectionState().NegotiatedProtocol != "h2") {
		sess.first = nil
	} else {
		c = nil
	}
	sess.firstMu.Unlock()
	if c != nil {
		return c, nil
	}
	var ev ConnEvent
	conn, r := sess.s.open(ctx, sess.host, sess.port, &ev)
	if r != nil {
		return nil, errors.New(r.reason)
	}
	if !sess.s.track(nil, conn) {
		conn.Close()
		return nil, errors.New("the proxy is shutting down")
	}
	tracked := &untrackConn{Conn: conn, s: sess.s}
	tc, err := sess.handshake(ctx, tracked, protos)
	if err != nil {
		return nil, err
	}
	return tc, nil
}

// serve runs an HTTP server (HTTP/2 or HTTP/1.1, as the client's TLS
// negotiated) on the one client connection until it ends.
func (sess *session) serve(c *tls.Conn) {
	l := &oneConnListener{conn: c, done: make(chan struct{})}
	srv := &http.Server{
		Handler:           sess,
		ReadHeaderTimeout: sess.s.opts.HandshakeTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
		TLSConfig:         &tls.Config{NextProtos: []string{"h2", "http/1.1"}},
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateClosed || st == http.StateHijacked {
				l.Close()
			}
		},
	}
	srv.Serve(l)
	sess.active.Wait()
}

// ServeHTTP judges and forwards one request of the intercepted connection.
func (sess *session) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sess.active.Add(1)
	defer sess.active.Done()
	ev := ConnEvent{Start: time.Now(), Protocol: ProtoHTTPS, Host: sess.host, Port: sess.port, Addr: sess.addr,
		Allowed: true, Rule: sess.rule, Intercepted: true, Method: r.Method, Path: truncate(r.URL.EscapedPath(), 512)}
	defer sess.s.finish(&ev)
	refuse := func(reason, fix string) {
		ev.Allowed, ev.Reason, ev.Status = false, reason, http.StatusForbidden
		writeRefusalTo(w, ev, policyRefusal(reason, fix))
	}
	if r.Method == http.MethodConnect {
		if p := r.Header.Get(":protocol"); p != "" {
			// Only a server that announced RFC 8441 gets these, and this
			// one does not (docs/network.md, "WebSocket"); should a Go
			// release or GODEBUG=http2xconnect=1 make net/http announce
			// it, the stream is refused, never tunnelled unseen.
			refuse(fmt.Sprintf("%s over HTTP/2 (extended CONNECT, RFC 8441) is not supported on an intercepted host", strconv.Quote(truncate(p, 64))),
				"open it over HTTP/1.1 (an Upgrade request), which cordon passes through")
			return
		}
		refuse("CONNECT inside an intercepted connection is not supported", "")
		return
	}
	if reason := sess.misdirected(r); reason != "" {
		// The connection leads to this host alone: a request for another
		// would reach whatever that name routes to behind it (a CDN
		// serves many), with the secret. 421 tells the client to open a
		// connection of its own for that host, which is judged anew.
		ev.Allowed, ev.Reason, ev.Status = false, reason, http.StatusMisdirectedRequest
		ev.Credential = sess.s.inject.carried(r.Header, r.URL)
		writeRefusalTo(w, ev, &refusal{status: http.StatusMisdirectedRequest, socksCode: socksNotAllowed, denied: true, reason: reason,
			fix: "send requests for another host on a connection of its own (CONNECT that host)"})
		return
	}
	if rf := sess.s.judgeRequest(r.Context(), sess.t, r.Method, r.URL.EscapedPath(), &ev); rf != nil {
		ev.Allowed, ev.Reason, ev.Status = false, rf.reason, rf.status
		writeRefusalTo(w, ev, rf)
		return
	}
	use, refusedBy, reason := sess.s.inject.check(r.Header, r.URL, &sess.t)
	if refusedBy != "" {
		ev.Credential = refusedBy
		refuse(reason, "")
		return
	}
	if use != nil {
		ev.Credential = use.Name
	}
	body := &countingBody{ReadCloser: r.Body}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = body
	}
	rw := &statusWriter{ResponseWriter: w}
	var injected bool
	// After an upgrade's 101 (only an HTTP/1.1 client can ask: Go's
	// HTTP/2 server refuses Upgrade headers) the ReverseProxy copies the
	// bytes both ways, unmodified, until either side ends.
	transport := sess.h2
	if r.ProtoMajor == 1 {
		transport = sess.h1
	}
	var upgraded *countingRWC
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "https"
			pr.Out.URL.Host = net.JoinHostPort(sess.t.Host(), strconv.Itoa(sess.port))
			pr.Out.Host = pr.In.Host
			if use != nil {
				injected = use.inject(pr.Out.Header)
			}
		},
		Transport: transport,
		ModifyResponse: func(resp *http.Response) error {
			// A server that echoes the request must not hand the secret
			// to the sandbox.
			mask := ""
			if injected {
				mask = use.Placeholder
				if len(mask) != len(use.Secret) {
					mask = strings.Repeat("*", len(use.Secret))
				}
				scrubHeader(resp.Header, use.Secret, mask)
				scrubHeader(resp.Trailer, use.Secret, mask)
			}
			if resp.StatusCode == http.StatusSwitchingProtocols {
				// The ReverseProxy refuses a switch to another protocol
				// than the request asked for, none included, and a body
				// it cannot write to.
				if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
					upgraded = &countingRWC{ReadWriteCloser: rwc, ended: sess.endClient}
					resp.Body = upgraded
				}
				return nil
			}
			if injected {
				resp.Body = newReplaceReader(resp.Body, use.Secret, mask)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			ev.Reason = "forwarding failed: " + err.Error()
			writeErrorTo(w, http.StatusBadGateway, ev.Reason)
		},
		BufferPool: copyBuffers{},
	}
	rp.ServeHTTP(rw, r)
	ev.Injected = injected
	ev.Status = rw.status
	ev.BytesSent, ev.BytesReceived = body.n.Load(), rw.n
	if upgraded != nil && ev.Status == 0 {
		// The 101 went out on the hijacked connection, past rw.
		ev.Status = http.StatusSwitchingProtocols
		ev.BytesSent, ev.BytesReceived = upgraded.written.Load(), upgraded.read.Load()
	}
}

// misdirected returns a reason to refuse a request that names another host
// than the one the connection was opened to: the target of an HTTP/1.1
// request (its absolute URL, else its Host header), the :authority of an
// HTTP/2 stream, and any Host header an HTTP/2 stream carries besides.
func (sess *session) misdirected(r *http.Request) string {
	named, what := []string{r.Host}, "Host"
	if r.ProtoMajor >= 2 {
		what = ":authority"
		named = append(named, r.Header.Values("Host")...)
	}
	for i, h := range named {
		if i > 0 {
			what = "Host header"
		}
		if hostMismatch(sess.host, sess.port, []string{h}, 443) != "" {
			return fmt.Sprintf("the request's %s %s is not %s, the host this connection was opened to",
				what, strconv.QuoteToASCII(truncate(h, 256)), net.JoinHostPort(sess.host, strconv.Itoa(sess.port)))
		}
	}
	return ""
}

// countingRWC counts the bytes of an upgraded connection to the host:
// read ones went to the client, written ones came from it. When the host
// ends its side, ended runs: by then everything read before has been
// written to the client.
type countingRWC struct {
	io.ReadWriteCloser
	read, written atomic.Int64
	ended         func()
	pending       error // an end of stream that came with data
	once          sync.Once
}

func (c *countingRWC) Read(p []byte) (int, error) {
	if c.pending != nil {
		c.once.Do(c.ended)
		return 0, c.pending
	}
	n, err := c.ReadWriteCloser.Read(p)
	c.read.Add(int64(n))
	if err != nil {
		if n > 0 {
			c.pending = err
			return n, nil
		}
		c.once.Do(c.ended)
	}
	return n, err
}

// endClient ends an upgraded connection once the host has ended its side.
// httputil.ReverseProxy would pass the end on as a half-close and wait for
// the client to close as well, and a client that never does would hold
// the session forever; a WebSocket has no use for half a connection.
// Ending the client's read makes the ReverseProxy close both (the client
// gets TLS's close_notify, then the end of the TCP stream).
func (sess *session) endClient() {
	sess.client.SetReadDeadline(time.Now())
}

func (c *countingRWC) Write(p []byte) (int, error) {
	n, err := c.ReadWriteCloser.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// copyBuffers lends ReverseProxy its copy buffers.
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func (copyBuffers) Get() []byte  { return *copyBufferPool.Get().(*[]byte) }
func (copyBuffers) Put(b []byte) { copyBufferPool.Put(&b) }

// statusWriter records the status and counts the body of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 || w.status < 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// sessionConn counts a session's upstream bytes.
type sessionConn struct {
	net.Conn
	sess *session
}

func (c *sessionConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.sess.received.Add(int64(n))
	return n, err
}

func (c *sessionConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.sess.sent.Add(int64(n))
	return n, err
}

// untrackConn ends the server's tracking of a connection when it closes.
type untrackConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *untrackConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.s.untrack(nil, c.Conn) })
	return err
}

// pendingConn reads pending (bytes the client sent behind its request)
// before the connection itself.
type pendingConn struct {
	net.Conn
	pending []byte
}

func (c *pendingConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// oneConnListener hands an http.Server one connection, then blocks until
// closed.
type oneConnListener struct {
	mu   sync.Mutex
	conn net.Conn
	done chan struct{}
	once sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	c := l.conn
	l.conn = nil
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *oneConnListener) Addr() net.Addr { return dummyAddr{} }

type dummyAddr struct{}

func (dummyAddr) Network() string { return "tcp" }
func (dummyAddr) String() string  { return "cordon-intercept" }
