package netproxy

import (
	"github.com/cordon-sandbox/cordon/policy/netpolicy"

	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Resolver looks up a name's addresses. *net.Resolver satisfies it; tests
// inject a fixed map.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Asker asks a human whether a destination that no rule lists may be
// reached, for policies that say `unlisted = "ask"`, and whether a request
// a network.requests rule asks about may be sent. The connection (or the
// request) is held until Ask returns.
type Asker interface {
	// Ask returns true to allow this one connection. An error counts as a
	// refusal and its text becomes the recorded reason. Ask must return
	// when ctx ends: the proxy cancels it after Options.AskTimeout.
	Ask(ctx context.Context, q Question) (bool, error)
}

// Question is what an Asker is asked.
type Question struct {
	Host     string // normalised host name or IP address
	Port     int
	Protocol string // ProtoHTTP, ProtoConnect, ProtoSOCKS5 or ProtoHTTPS
	Reason   string // why the policy did not decide on its own
	// Method, Path (escaped, without the query) and Rule are set when a
	// request rule (network.requests) says to ask about one request;
	// Reason names them too.
	Method, Path, Rule string
}

// Options adjusts a Server. The zero value is usable.
type Options struct {
	// Resolver resolves names after the policy allowed them. Default:
	// net.DefaultResolver.
	Resolver Resolver
	// Asker is consulted for unlisted hosts when the policy says ask.
	// Without one, ask behaves as deny and the refusal says so.
	Asker Asker
	// OnEvent receives one ConnEvent per connection when it ends. Calls are
	// never concurrent; a slow callback delays only the connection it
	// reports on.
	OnEvent func(ConnEvent)
	// DialTimeout bounds each dial to a destination. Default 10s.
	DialTimeout time.Duration
	// AskTimeout bounds the wait for a human's answer; no answer in time
	// means deny. Default 60s.
	AskTimeout time.Duration
	// HandshakeTimeout bounds the time a client may take to send its
	// request (SOCKS5 handshake or HTTP header), and the idle time between
	// plain HTTP requests on one connection. Default 30s.
	HandshakeTimeout time.Duration
	// Inject lists the credentials the proxy puts into requests. The hosts
	// they name are intercepted; every other host stays a plain tunnel.
	Inject []Injection
	// CA signs the certificates the proxy shows clients of intercepted
	// hosts. Required with Inject.
	CA *CA
	// UpstreamRoots verifies the certificates of intercepted hosts.
	// Default: the system's roots plus the certificates in the file the
	// Config's ExtraCA names.
	UpstreamRoots *x509.CertPool
}

// Server is the filtering proxy. It serves HTTP (absolute-form requests and
// CONNECT) and SOCKS5 on the same connections, telling them apart by the
// first byte. Create it with New; it is safe for concurrent use.
type Server struct {
	rules     *Rules
	opts      Options
	inject    injectors
	roots     *x509.CertPool // verifies intercepted hosts
	rec       recorder
	transport *http.Transport
	// dial connects to a checked address; tests replace it to stand in
	// for public addresses.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// ctx ends when the server closes, ending dials and pending questions.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("netproxy: server closed")

// New validates cfg and returns a proxy enforcing it.
func New(cfg Config, opts Options) (*Server, error) {
	rules, err := netpolicy.Compile(cfg)
	if err != nil {
		return nil, fmt.Errorf("invalid network policy: %w", err)
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.AskTimeout <= 0 {
		opts.AskTimeout = 60 * time.Second
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 30 * time.Second
	}
	inject, err := compileInjections(opts.Inject)
	if err != nil {
		return nil, fmt.Errorf("invalid credential injection: %w", err)
	}
	roots := opts.UpstreamRoots
	if len(inject) > 0 {
		if opts.CA == nil {
			return nil, errors.New("netproxy: credentials are injected but no CA is set to intercept their hosts")
		}
		if roots == nil {
			var extra []byte
			if cfg.ExtraCA != "" {
				if extra, err = os.ReadFile(cfg.ExtraCA); err != nil {
					return nil, keyErrorf(keyExtraCA, "%v", err)
				}
			}
			if roots, err = upstreamRoots(extra); err != nil {
				return nil, keyErrorf(keyExtraCA, "%s %v; name a PEM file of CA certificates", cfg.ExtraCA, err)
			}
		}
	}
	s := &Server{
		inject:    inject,
		roots:     roots,
		rules:     rules,
		opts:      opts,
		rec:       recorder{onEvent: opts.OnEvent},
		listeners: map[net.Listener]struct{}{},
		conns:     map[net.Conn]struct{}{},
	}
	s.transport = newForwardTransport()
	s.dial = (&net.Dialer{Timeout: opts.DialTimeout}).DialContext
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Serve accepts connections on l and serves each in its own goroutine until
// l fails or the server is closed. Connections from a listener made by
// ListenLoopback must present its secret; any other listener's connections
// are trusted to have been authorised by whoever could reach it.
func (s *Server) Serve(l net.Listener) error {
	if !s.track(l, nil) {
		l.Close()
		return ErrServerClosed
	}
	defer s.untrack(l, nil)
	var tempDelay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				// Out of file descriptors and similar: back off, as
				// net/http does, instead of spinning or giving up.
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			return err
		}
		tempDelay = 0
		go s.ServeConn(c)
	}
}

// Close stops every listener passed to Serve, closes every open connection
// and waits until each connection's event has been delivered.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.cancel()
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Summary totals the connections served so far.
func (s *Server) Summary() Summary { return s.rec.summary() }

// TakeSummary returns the summary so far and starts the next one from
// nothing: a warm sandbox's proxy serves one command after another, and
// each command's result totals its own connections.
func (s *Server) TakeSummary() Summary { return s.rec.take() }

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track registers a listener or connection so Close can stop it, and
// counts a connection as work Close waits for; it reports false once the
// server is closed. The check and the count share the lock with Close, so no
// work starts after Close began waiting.
func (s *Server) track(l net.Listener, c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if c != nil {
		s.wg.Add(1)
	}
	if l != nil {
		s.listeners[l] = struct{}{}
	}
	if c != nil {
		s.conns[c] = struct{}{}
	}
	return true
}

func (s *Server) untrack(l net.Listener, c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l != nil {
		delete(s.listeners, l)
	}
	if c != nil {
		delete(s.conns, c)
		s.wg.Done()
	}
}

const socks5Version = 0x05

// ServeConn serves one connection that the caller accepted (the sandbox's
// bridge hands them over as file descriptors) and returns when it is done.
// It closes c. The client needs no secret unless c came from a
// LoopbackListener.
//
// SOCKS5 and HTTP are told apart by the first byte: a SOCKS5 greeting starts
// with its version, 5, which no HTTP method does.
func (s *Server) ServeConn(c net.Conn) {
	secret := ""
	if sc, ok := c.(*secretConn); ok {
		c, secret = sc.Conn, sc.secret
	}
	if !s.track(nil, c) {
		c.Close()
		return
	}
	defer func() {
		s.untrack(nil, c)
		c.Close()
	}()
	br := newClientReader(c)
	defer br.release()
	c.SetReadDeadline(time.Now().Add(s.opts.HandshakeTimeout))
	first, err := br.Peek(1)
	if err != nil {
		return
	}
	if first[0] == socks5Version {
		s.serveSOCKS5(c, br, secret)
		return
	}
	s.serveHTTP(c, br, secret)
}
