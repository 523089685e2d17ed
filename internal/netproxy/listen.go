package netproxy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
)

// secretUser is the user name that goes with the per-run secret.
const secretUser = "cordon"

// ListenUnix listens on a unix socket at path, readable and writable by the
// owner only. The directory it is in should be private too: whoever can
// connect to the socket can use the proxy without a secret.
func ListenUnix(path string) (net.Listener, error) {
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("proxy: listening on unix socket %s: %w (remove a stale socket file, or choose another path)", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("proxy: restricting unix socket %s to its owner: %w", path, err)
	}
	return l, nil
}

// LoopbackListener is a TCP listener on a loopback address whose clients must
// present a per-run secret, as HTTP Basic proxy credentials or SOCKS5
// username/password (user "cordon", password the secret). It is for sandbox
// modes without a network namespace, where every local process could reach
// the port. The connections it accepts carry the requirement with them, so it
// holds whether they go to Serve or to ServeConn.
type LoopbackListener struct {
	l      net.Listener
	secret string
}

// ListenLoopback listens on addr, which must be a loopback address with a
// port ("127.0.0.1:0" picks a free port; "" means that), and draws a fresh
// secret from crypto/rand.
func ListenLoopback(addr string) (*LoopbackListener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return nil, fmt.Errorf("proxy: listen address %q must be a loopback address with a port, as 127.0.0.1:0 or [::1]:8080", addr)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("proxy: drawing the per-run secret: %w", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("proxy: listening on %s: %w", addr, err)
	}
	return &LoopbackListener{l: l, secret: hex.EncodeToString(b[:])}, nil
}

// Accept returns the next connection, marked as needing the secret.
func (l *LoopbackListener) Accept() (net.Conn, error) {
	c, err := l.l.Accept()
	if err != nil {
		return nil, err
	}
	return &secretConn{Conn: c, secret: l.secret}, nil
}

// Close stops the listener.
func (l *LoopbackListener) Close() error { return l.l.Close() }

// Addr is the listening address.
func (l *LoopbackListener) Addr() net.Addr { return l.l.Addr() }

// URL is the proxy URL with the secret as credentials,
// http://cordon:SECRET@127.0.0.1:PORT. The same URL with the scheme
// socks5h:// reaches the SOCKS5 side of the same port.
func (l *LoopbackListener) URL() string {
	u := url.URL{Scheme: "http", User: url.UserPassword(secretUser, l.secret), Host: l.Addr().String()}
	return u.String()
}

// secretConn is a connection whose client must present secret. The server
// unwraps it and serves the bare connection, which keeps splice(2) possible.
type secretConn struct {
	net.Conn
	secret string
}
