package netproxy

import (
	"github.com/cordon-sandbox/cordon/policy/netpolicy"

	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// maxHeaderBytes bounds a request header; it is also the size of the
// connection's read buffer, which must hold the whole header (see peekHeader).
const maxHeaderBytes = 64 << 10

var (
	errHeaderTooLarge = errors.New("request header too large")
	errLeadingEmpty   = errors.New("the request starts with an empty line")
)

// serveHTTP serves CONNECT and absolute-form requests on one connection,
// several in a row when the client keeps the connection alive.
func (s *Server) serveHTTP(c net.Conn, br *clientReader, secret string) {
	for {
		c.SetReadDeadline(time.Now().Add(s.opts.HandshakeTimeout))
		hdr, err := peekHeader(br.Reader)
		if err != nil {
			switch {
			case errors.Is(err, errHeaderTooLarge):
				writeError(c, http.StatusRequestHeaderFieldsTooLarge, "the request header is larger than 64 KiB")
			case errors.Is(err, errLeadingEmpty):
				writeError(c, http.StatusBadRequest, err.Error())
			}
			return
		}
		hosts, err := hostHeaders(hdr)
		var req *http.Request
		if err == nil {
			req, err = http.ReadRequest(br.Reader)
		}
		if err != nil {
			// Recorded too: a request the proxy cannot even parse is
			// still an attempt to get out.
			ev := ConnEvent{Start: time.Now(), Protocol: ProtoHTTP, Reason: "malformed request: " + err.Error()}
			if line, _, ok := strings.Cut(string(hdr), "\n"); ok {
				ev.Host = strconv.QuoteToASCII(strings.TrimSuffix(line, "\r"))
			}
			writeError(c, http.StatusBadRequest, ev.Reason)
			s.finish(&ev)
			return
		}
		c.SetReadDeadline(time.Time{})
		if req.Method == http.MethodConnect {
			s.handleConnect(c, br, req, hosts, secret)
			return
		}
		if !s.forward(c, req, hosts, secret) {
			return
		}
	}
}

// peekHeader waits until br's buffer holds the whole request header (up to
// the first empty line) and returns it without consuming it. The Host header
// must be read from these raw bytes: http.ReadRequest drops it.
func peekHeader(br *bufio.Reader) ([]byte, error) {
	scanned := 0
	for {
		b, err := br.Peek(max(br.Buffered(), 1))
		if err != nil {
			return nil, err
		}
		for {
			nl := bytes.IndexByte(b[scanned:], '\n')
			if nl < 0 {
				break
			}
			line := bytes.TrimSuffix(b[scanned:scanned+nl], []byte("\r"))
			if len(line) == 0 {
				if scanned == 0 {
					return nil, errLeadingEmpty
				}
				return b[:scanned+nl+1], nil
			}
			scanned += nl + 1
		}
		if len(b) == br.Size() {
			return nil, errHeaderTooLarge
		}
		if _, err := br.Peek(len(b) + 1); err != nil {
			return nil, err
		}
	}
}

// hostHeaders parses a raw header with the parser net/http itself uses, so
// both see the same Host values.
func hostHeaders(hdr []byte) ([]string, error) {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(hdr)))
	if _, err := tp.ReadLine(); err != nil {
		return nil, err
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	return h.Values("Host"), nil
}

// hostMismatch returns a reason when the Host header names another
// destination than the request target. A Host header without a port is
// compared with defaultPort, or by name only when defaultPort is -1.
func hostMismatch(targetHost string, targetPort int, hosts []string, defaultPort int) string {
	switch len(hosts) {
	case 0:
		return ""
	case 1:
	default:
		return fmt.Sprintf("the request carries %d Host headers", len(hosts))
	}
	want, err := netpolicy.ParseHost(targetHost)
	if err != nil {
		return "" // the target itself is refused by the policy check
	}
	h, p, err := netpolicy.SplitHostPort(hosts[0], -1)
	if err == nil {
		var got target
		if got, err = netpolicy.ParseHost(h); err == nil && got.Host() != want.Host() {
			err = errors.New("other host")
		}
	}
	if p == -1 {
		p = defaultPort
	}
	if err != nil || (p != -1 && p != targetPort) {
		return fmt.Sprintf("the Host header %q does not match the request target %s", hosts[0],
			net.JoinHostPort(targetHost, strconv.Itoa(targetPort)))
	}
	return ""
}

func (s *Server) handleConnect(c net.Conn, br *clientReader, req *http.Request, hosts []string, secret string) {
	ev := ConnEvent{Start: time.Now(), Protocol: ProtoConnect}
	defer s.finish(&ev)
	host, port, err := netpolicy.SplitHostPort(req.RequestURI, 0)
	if err != nil {
		ev.Host = strconv.QuoteToASCII(req.RequestURI)
		ev.Reason = "malformed CONNECT target: " + err.Error()
		writeError(c, http.StatusBadRequest, ev.Reason)
		return
	}
	ev.Host, ev.Port = displayHost(host), port
	if secret != "" && !authorized(req.Header, secret) {
		ev.Reason = "the client did not present the proxy secret"
		writeAuthRequired(c)
		return
	}
	if reason := hostMismatch(host, port, hosts, -1); reason != "" {
		ev.Reason = reason
		writeRefusal(c, ev, policyRefusal(reason, "send the same host in the CONNECT target and the Host header"))
		return
	}
	upstream, r := s.open(s.ctx, host, port, &ev)
	if r != nil {
		ev.Reason = r.reason
		writeRefusal(c, ev, r)
		return
	}
	defer upstream.Close()
	if !s.track(nil, upstream) {
		ev.Reason = "the proxy is shutting down"
		return
	}
	defer s.untrack(nil, upstream)
	established := func() error {
		_, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		return err
	}
	if s.intercepts(ev.Host, ev.Port) {
		s.intercept(c, br.detach(), upstream, &ev, established, func(r *refusal) { writeRefusal(c, ev, r) })
		return
	}
	if r := s.opaque(ev.Host, ev.Port); r != nil {
		ev.Allowed, ev.Rule, ev.Reason = false, keyRequests, r.reason
		writeRefusal(c, ev, r)
		return
	}
	if established() != nil {
		return
	}
	ev.BytesSent, ev.BytesReceived = tunnel(c, upstream, br.detach())
}

// intercepts reports whether connections to host (normalised, as open
// leaves it in the event) and port are intercepted.
func (s *Server) intercepts(host string, port int) bool {
	if len(s.inject) == 0 {
		return false
	}
	t, err := netpolicy.ParseHost(host)
	if err != nil {
		return false
	}
	t.Port = port
	return s.inject.intercepts(t)
}

// forward sends one absolute-form plain HTTP request on a fresh connection
// to the checked address and relays the response. Redirects are relayed, not
// followed. It reports whether the client connection may carry another
// request.
func (s *Server) forward(c net.Conn, req *http.Request, hosts []string, secret string) (keepAlive bool) {
	ev := ConnEvent{Start: time.Now(), Protocol: ProtoHTTP, Method: req.Method}
	defer s.finish(&ev)
	ev.Host = strconv.QuoteToASCII(req.RequestURI)
	if req.URL.Host == "" || req.URL.Scheme == "" {
		ev.Reason = "not an absolute-form request: cordon's proxy forwards http://HOST/PATH requests and tunnels everything else with CONNECT"
		writeError(c, http.StatusBadRequest, ev.Reason)
		return false
	}
	if req.URL.Scheme != "http" {
		ev.Reason = fmt.Sprintf("the proxy forwards only http:// URLs, not %s://; send other schemes through CONNECT", req.URL.Scheme)
		writeError(c, http.StatusBadRequest, ev.Reason)
		return false
	}
	host, port, err := netpolicy.SplitHostPort(req.URL.Host, 80)
	if err != nil {
		ev.Reason = "malformed URL host: " + err.Error()
		writeError(c, http.StatusBadRequest, ev.Reason)
		return false
	}
	ev.Host, ev.Port = displayHost(host), port
	if secret != "" && !authorized(req.Header, secret) {
		ev.Reason = "the client did not present the proxy secret"
		writeAuthRequired(c)
		return false
	}
	if reason := hostMismatch(host, port, hosts, 80); reason != "" {
		ev.Reason = reason
		writeRefusal(c, ev, policyRefusal(reason, "send the same host in the URL and the Host header"))
		return false
	}
	if _, cred, reason := s.inject.check(req.Header, req.URL, nil); cred != "" {
		// Plain HTTP never gets a secret, and a placeholder here was
		// meant for one.
		ev.Credential, ev.Reason = cred, reason
		writeRefusal(c, ev, policyRefusal(reason, "send the request over HTTPS to one of the credential's hosts"))
		return false
	}
	upstream, r := s.open(s.ctx, host, port, &ev)
	if r != nil {
		ev.Reason = r.reason
		writeRefusal(c, ev, r)
		return false
	}
	if t, err := netpolicy.ParseHost(ev.Host); err == nil && s.rules.GovernsRequests(withPort(t, port)) {
		t.Port = port
		ev.Path = truncate(req.URL.EscapedPath(), 512)
		if r := s.judgeRequest(s.ctx, t, req.Method, req.URL.EscapedPath(), &ev); r != nil {
			upstream.Close()
			ev.Allowed, ev.Reason = false, r.reason
			writeRefusal(c, ev, r)
			return false
		}
	}
	counted := &countingConn{Conn: upstream}
	defer func() {
		upstream.Close()
		ev.BytesSent, ev.BytesReceived = counted.written.Load(), counted.read.Load()
	}()
	if !s.track(nil, upstream) {
		ev.Reason = "the proxy is shutting down"
		return false
	}
	defer s.untrack(nil, upstream)

	if strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
		// Answer for the destination: the request body is streamed as it
		// arrives, and a client waiting for 100 would otherwise stall.
		if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return false
		}
		req.Header.Del("Expect")
	}
	out := req.Clone(context.WithValue(s.ctx, checkedConnKey{}, &checkedConn{conn: counted}))
	out.RequestURI = ""
	out.URL.User = nil
	out.Close = false
	removeHopHeaders(out.Header)
	resp, err := s.transport.RoundTrip(out)
	if err != nil {
		ev.Reason = "forwarding failed: " + err.Error()
		writeError(c, http.StatusBadGateway, ev.Reason)
		return false
	}
	defer resp.Body.Close()
	removeHopHeaders(resp.Header)
	keepAlive = !req.Close && req.ProtoAtLeast(1, 1)
	resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.1", 1, 1
	if resp.ContentLength < 0 && !isChunked(resp.TransferEncoding) && req.Method != http.MethodHead {
		// The destination ends the body by closing; re-frame it as
		// chunked so the client's connection can stay open.
		resp.TransferEncoding = []string{"chunked"}
	}
	resp.Close = !keepAlive
	if err := resp.Write(c); err != nil {
		ev.Reason = "relaying the response failed: " + err.Error()
		return false
	}
	if keepAlive && req.Body != http.NoBody {
		// The next request starts after this one's body; a destination
		// that answered early may have left some of it unread.
		const maxDrain = 1 << 20
		if n, _ := io.CopyN(io.Discard, req.Body, maxDrain+1); n > maxDrain {
			return false
		}
	}
	return keepAlive
}

func isChunked(te []string) bool { return len(te) > 0 && te[0] == "chunked" }

// hopHeaders concern one connection and are not passed on (RFC 9110 7.6.1).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func removeHopHeaders(h http.Header) {
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

type checkedConnKey struct{}

// checkedConn hands the connection that open dialled to the Transport,
// exactly once: the Transport never dials by name.
type checkedConn struct {
	conn net.Conn
	used bool
}

func newForwardTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			cc, _ := ctx.Value(checkedConnKey{}).(*checkedConn)
			if cc == nil || cc.used {
				return nil, errors.New("netproxy: no checked connection for this request")
			}
			cc.used = true
			return cc.conn, nil
		},
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 1 << 20,
	}
}

// authorized checks the Basic Proxy-Authorization header against the secret
// in constant time.
func authorized(h http.Header, secret string) bool {
	scheme, cred, ok := strings.Cut(h.Get("Proxy-Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, []byte(secretUser+":"+secret)) == 1
}

// displayHost is the normalised host when it parses, the quoted raw text
// otherwise.
func displayHost(raw string) string {
	if t, err := netpolicy.ParseHost(raw); err == nil {
		return t.Host()
	}
	return strconv.QuoteToASCII(raw)
}

// headerSafe keeps a header value to one line of printable ASCII.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}

// writeRefusal answers a refused request. Policy refusals carry the
// X-Cordon-Denied header naming the destination, the rule and the fix.
func writeRefusal(c net.Conn, ev ConnEvent, r *refusal) {
	h, body := refusalResponse(ev, r)
	writeResponse(c, r.status, h, body)
}

// writeRefusalTo answers a refused request inside an intercepted
// connection.
func writeRefusalTo(w http.ResponseWriter, ev ConnEvent, r *refusal) {
	h, body := refusalResponse(ev, r)
	writeResponseTo(w, r.status, h, body)
}

func refusalResponse(ev ConnEvent, r *refusal) (http.Header, string) {
	dest := net.JoinHostPort(ev.Host, strconv.Itoa(ev.Port))
	var body strings.Builder
	h := http.Header{}
	if r.denied {
		fmt.Fprintf(&body, "cordon: network access to %s was refused: %s\n", dest, r.reason)
		fmt.Fprintf(&body, "rule: %s\n", netpolicy.RuleOrNone(ev.Rule))
		if r.fix != "" {
			fmt.Fprintf(&body, "to allow it: %s\n", r.fix)
		}
		v := fmt.Sprintf("host=%s; rule=%s", dest, netpolicy.RuleOrNone(ev.Rule))
		if r.fix != "" {
			v += "; fix=" + r.fix
		}
		h.Set("X-Cordon-Denied", headerSafe(v))
	} else {
		fmt.Fprintf(&body, "cordon: could not reach %s: %s\n", dest, r.reason)
		h.Set("X-Cordon-Error", headerSafe(r.reason))
	}
	return h, body.String()
}

func writeError(c net.Conn, status int, msg string) {
	h := http.Header{}
	h.Set("X-Cordon-Error", headerSafe(msg))
	writeResponse(c, status, h, "cordon: "+msg+"\n")
}

func writeErrorTo(w http.ResponseWriter, status int, msg string) {
	h := http.Header{}
	h.Set("X-Cordon-Error", headerSafe(msg))
	writeResponseTo(w, status, h, "cordon: "+msg+"\n")
}

// writeResponseTo writes a plain-text answer through an http.Server.
func writeResponseTo(w http.ResponseWriter, status int, h http.Header, body string) {
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func writeAuthRequired(c net.Conn) {
	h := http.Header{}
	h.Set("Proxy-Authenticate", `Basic realm="cordon"`)
	writeResponse(c, http.StatusProxyAuthRequired, h,
		"cordon: this proxy needs the per-run secret; use the proxy URL cordon set in HTTPS_PROXY, which carries it as the password\n")
}

func writeResponse(c net.Conn, status int, h http.Header, body string) {
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	h.Write(&b)
	b.WriteString("\r\n")
	b.WriteString(body)
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	c.Write(b.Bytes())
}

func (s *Server) finish(ev *ConnEvent) {
	ev.Duration = time.Since(ev.Start)
	s.rec.record(*ev)
}
