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
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The client side, for `cordon __connect HOST PORT`: ssh's ProxyCommand runs
// it inside the sandbox, where the only way out is the proxy the environment
// names.

// ConnectStdio is `cordon __connect HOST PORT`, ssh's ProxyCommand inside the
// sandbox: it opens a tunnel to host:port through the proxy named by
// ALL_PROXY (SOCKS5) or else HTTPS_PROXY (CONNECT), as getenv reports them,
// and pipes stdin and stdout through it until the destination closes.
func ConnectStdio(ctx context.Context, getenv func(string) string, host string, port int, stdin io.Reader, stdout io.Writer) error {
	proxy, err := proxyFromEnv(getenv)
	if err != nil {
		return err
	}
	conn, err := DialVia(ctx, proxy, host, port)
	if err != nil {
		return err
	}
	return pipe(conn, stdin, stdout)
}

// proxyFromEnv returns ALL_PROXY, else HTTPS_PROXY, in upper or lower case.
func proxyFromEnv(getenv func(string) string) (*url.URL, error) {
	for _, k := range []string{"ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"} {
		v := getenv(k)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%s=%q is not a proxy URL like http://127.0.0.1:8080 or socks5h://127.0.0.1:1080", k, v)
		}
		return u, nil
	}
	return nil, errors.New("no proxy is set: neither ALL_PROXY nor HTTPS_PROXY names one; cordon sets them inside the sandbox when the network mode is proxy")
}

// DialVia opens a TCP tunnel to host:port through the proxy at proxy: HTTP
// CONNECT for http:// URLs, SOCKS5 for socks5:// and socks5h:// (the name is
// always sent to the proxy, never resolved here). Credentials in the URL are
// sent as Basic proxy authorization or SOCKS5 username/password.
func DialVia(ctx context.Context, proxy *url.URL, host string, port int) (net.Conn, error) {
	addr := proxy.Host
	if proxy.Port() == "" {
		def := "1080"
		if proxy.Scheme == "http" {
			def = "80"
		}
		addr = net.JoinHostPort(proxy.Hostname(), def)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to the proxy %s: %w", addr, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		c.SetDeadline(deadline)
	}
	var tc net.Conn
	switch proxy.Scheme {
	case "http":
		tc, err = connectHTTP(c, proxy.User, host, port)
	case "socks5", "socks5h":
		tc, err = connectSOCKS5(c, proxy.User, host, port)
	default:
		err = fmt.Errorf("proxy scheme %q is not supported; use http, socks5 or socks5h", proxy.Scheme)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return tc, nil
}

func connectHTTP(c net.Conn, user *url.Userinfo, host string, port int) (net.Conn, error) {
	target := net.JoinHostPort(host, strconv.Itoa(port))
	var b strings.Builder
	fmt.Fprintf(&b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target, target)
	if user != nil {
		pass, _ := user.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(user.Username() + ":" + pass))
		fmt.Fprintf(&b, "Proxy-Authorization: Basic %s\r\n", cred)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, fmt.Errorf("sending CONNECT to the proxy: %w", err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return nil, fmt.Errorf("reading the proxy's answer to CONNECT: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		msg := strings.TrimSpace(string(body))
		if msg == "" {
			msg = resp.Status
		}
		return nil, fmt.Errorf("the proxy refused CONNECT %s: %s", target, msg)
	}
	// Bytes the destination sent right behind the 200 (an ssh banner) may
	// already sit in br.
	return &prefixConn{Conn: c, r: br}, nil
}

// prefixConn reads through the buffer that parsed the proxy's answer.
type prefixConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *prefixConn) CloseWrite() error {
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return errors.New("connection cannot half-close")
}

func connectSOCKS5(c net.Conn, user *url.Userinfo, host string, port int) (net.Conn, error) {
	method := byte(socksMethodNoAuth)
	if user != nil {
		method = socksMethodUserPass
	}
	if _, err := c.Write([]byte{socks5Version, 1, method}); err != nil {
		return nil, fmt.Errorf("greeting the SOCKS5 proxy: %w", err)
	}
	var sel [2]byte
	if _, err := io.ReadFull(c, sel[:]); err != nil {
		return nil, fmt.Errorf("reading the SOCKS5 proxy's method: %w", err)
	}
	if sel[0] != socks5Version || sel[1] != method {
		return nil, errors.New("the SOCKS5 proxy accepted none of the offered authentication methods (is the proxy secret missing from ALL_PROXY?)")
	}
	if method == socksMethodUserPass {
		name := user.Username()
		pass, _ := user.Password()
		if len(name) > 255 || len(pass) > 255 {
			return nil, errors.New("SOCKS5 user name and password are limited to 255 bytes each")
		}
		msg := append([]byte{socksUserPassVersion, byte(len(name))}, name...)
		msg = append(append(msg, byte(len(pass))), pass...)
		if _, err := c.Write(msg); err != nil {
			return nil, err
		}
		var st [2]byte
		if _, err := io.ReadFull(c, st[:]); err != nil {
			return nil, fmt.Errorf("reading the SOCKS5 authentication status: %w", err)
		}
		if st[1] != 0 {
			return nil, errors.New("the SOCKS5 proxy rejected the credentials")
		}
	}
	req, err := appendSOCKSRequest(nil, host, port)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return nil, fmt.Errorf("reading the SOCKS5 reply: %w", err)
	}
	if hdr[1] != socksSucceeded {
		return nil, fmt.Errorf("%w (CONNECT %s)", socksReplyError(hdr[1]), net.JoinHostPort(host, strconv.Itoa(port)))
	}
	var skip int
	switch hdr[3] {
	case socksAtypIPv4:
		skip = 4
	case socksAtypIPv6:
		skip = 16
	case socksAtypDomain:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return nil, err
		}
		skip = int(n[0])
	default:
		return nil, fmt.Errorf("the SOCKS5 reply has address type %d", hdr[3])
	}
	if _, err := io.CopyN(io.Discard, c, int64(skip+2)); err != nil {
		return nil, err
	}
	return c, nil
}

// pipe copies in to conn and conn to out until the destination closes. The
// end of in is passed on as a half-close, so the destination still answers.
// It does not wait for in to end: ssh may keep its side open.
func pipe(conn net.Conn, in io.Reader, out io.Writer) error {
	go func() {
		if _, err := io.Copy(conn, in); err == nil {
			if cw, ok := conn.(closeWriter); ok && cw.CloseWrite() == nil {
				return
			}
		}
		conn.Close()
	}()
	_, err := io.Copy(out, conn)
	conn.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
