package netproxy

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// SOCKS5, RFC 1928, CONNECT only, with RFC 1929 username/password
// authentication for the secret-protected loopback listener.

const (
	socksMethodNoAuth       = 0x00
	socksMethodUserPass     = 0x02
	socksMethodNoAcceptable = 0xff

	socksCmdConnect = 0x01

	socksAtypIPv4   = 0x01
	socksAtypDomain = 0x03
	socksAtypIPv6   = 0x04

	socksUserPassVersion = 0x01
)

// socksRequest is a parsed SOCKS5 request. host is the text to decide on:
// an IP address, or the domain name exactly as the client sent its bytes
// (which may hold anything, NUL included; the policy check rejects it).
type socksRequest struct {
	cmd  byte
	atyp byte
	host string
	port int
}

// socksError is a request the proxy cannot serve, with the reply code to
// send.
type socksError struct {
	code byte
	msg  string
}

func (e *socksError) Error() string { return e.msg }

// readSOCKSRequest reads one request (the part after authentication). It
// never resolves anything.
func readSOCKSRequest(r io.Reader) (socksRequest, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return socksRequest{}, err
	}
	if hdr[0] != socks5Version {
		return socksRequest{}, &socksError{socksGeneralFailure, fmt.Sprintf("SOCKS version %d in the request; only 5 is spoken", hdr[0])}
	}
	if hdr[2] != 0 {
		return socksRequest{}, &socksError{socksGeneralFailure, "the reserved byte of the request is not zero"}
	}
	req := socksRequest{cmd: hdr[1], atyp: hdr[3]}
	switch req.atyp {
	case socksAtypIPv4:
		var a [4]byte
		if _, err := io.ReadFull(r, a[:]); err != nil {
			return req, err
		}
		req.host = netip.AddrFrom4(a).String()
	case socksAtypIPv6:
		var a [16]byte
		if _, err := io.ReadFull(r, a[:]); err != nil {
			return req, err
		}
		req.host = netip.AddrFrom16(a).String()
	case socksAtypDomain:
		var n [1]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return req, err
		}
		if n[0] == 0 {
			return req, &socksError{socksGeneralFailure, "the request's domain name is empty"}
		}
		name := make([]byte, n[0])
		if _, err := io.ReadFull(r, name); err != nil {
			return req, err
		}
		req.host = string(name)
	default:
		return req, &socksError{socksAddrNotSupported, fmt.Sprintf("address type %d is not one of 1 (IPv4), 3 (domain name), 4 (IPv6)", req.atyp)}
	}
	var p [2]byte
	if _, err := io.ReadFull(r, p[:]); err != nil {
		return req, err
	}
	req.port = int(p[0])<<8 | int(p[1])
	if req.cmd != socksCmdConnect {
		return req, &socksError{socksCommandNotSupported, fmt.Sprintf("command %d is not supported; only CONNECT (1) is", req.cmd)}
	}
	return req, nil
}

// appendSOCKSRequest encodes a CONNECT request; the client side and the
// fuzz test use it.
func appendSOCKSRequest(b []byte, host string, port int) ([]byte, error) {
	b = append(b, socks5Version, socksCmdConnect, 0)
	if ip, err := netip.ParseAddr(host); err == nil && ip.Zone() == "" {
		if ip.Is4() {
			a := ip.As4()
			b = append(append(b, socksAtypIPv4), a[:]...)
		} else {
			a := ip.As16()
			b = append(append(b, socksAtypIPv6), a[:]...)
		}
	} else {
		if len(host) == 0 || len(host) > 255 {
			return nil, fmt.Errorf("SOCKS5 cannot carry a host name of %d bytes", len(host))
		}
		b = append(append(b, socksAtypDomain, byte(len(host))), host...)
	}
	return append(b, byte(port>>8), byte(port)), nil
}

func (s *Server) serveSOCKS5(c net.Conn, br *clientReader, secret string) {
	if err := socksAuthenticate(c, br, secret); err != nil {
		s.finish(&ConnEvent{Start: time.Now(), Protocol: ProtoSOCKS5, Reason: err.Error()})
		return
	}
	ev := ConnEvent{Start: time.Now(), Protocol: ProtoSOCKS5}
	defer s.finish(&ev)
	req, err := readSOCKSRequest(br)
	if err != nil {
		ev.Host = displayHost(req.host)
		ev.Port = req.port
		ev.Reason = "malformed SOCKS5 request: " + err.Error()
		var se *socksError
		if errors.As(err, &se) {
			writeSOCKSReply(c, se.code)
		}
		return
	}
	c.SetReadDeadline(time.Time{})
	ev.Host, ev.Port = displayHost(req.host), req.port
	upstream, r := s.open(s.ctx, req.host, req.port, &ev)
	if r != nil {
		ev.Reason = r.reason
		writeSOCKSReply(c, r.socksCode)
		return
	}
	defer upstream.Close()
	if !s.track(nil, upstream) {
		ev.Reason = "the proxy is shutting down"
		writeSOCKSReply(c, socksGeneralFailure)
		return
	}
	defer s.untrack(nil, upstream)
	established := func() error { return writeSOCKSReply(c, socksSucceeded) }
	if s.intercepts(ev.Host, ev.Port) {
		s.intercept(c, br.detach(), upstream, &ev, established, func(r *refusal) { writeSOCKSReply(c, r.socksCode) })
		return
	}
	if r := s.opaque(ev.Host, ev.Port); r != nil {
		ev.Allowed, ev.Rule, ev.Reason = false, keyRequests, r.reason
		writeSOCKSReply(c, r.socksCode)
		return
	}
	if err := established(); err != nil {
		return
	}
	ev.BytesSent, ev.BytesReceived = tunnel(c, upstream, br.detach())
}

// writeSOCKSReply sends a reply whose bound address is 0.0.0.0:0: the
// proxy's own outgoing address is none of the sandbox's business.
func writeSOCKSReply(c net.Conn, code byte) error {
	_, err := c.Write([]byte{socks5Version, code, 0, socksAtypIPv4, 0, 0, 0, 0, 0, 0})
	return err
}

// socksAuthenticate runs method selection and, when the listener has a
// secret, the username/password subnegotiation (RFC 1929).
func socksAuthenticate(c net.Conn, br io.Reader, secret string) error {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return err
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return err
	}
	offered := func(m byte) bool {
		for _, x := range methods {
			if x == m {
				return true
			}
		}
		return false
	}
	var method byte = socksMethodNoAcceptable
	switch {
	case secret == "" && offered(socksMethodNoAuth):
		method = socksMethodNoAuth
	case offered(socksMethodUserPass):
		method = socksMethodUserPass
	}
	if _, err := c.Write([]byte{socks5Version, method}); err != nil {
		return err
	}
	switch method {
	case socksMethodNoAcceptable:
		return errors.New("the SOCKS5 client offered no username/password authentication, and this listener needs the proxy secret")
	case socksMethodNoAuth:
		return nil
	}
	var ver [2]byte
	if _, err := io.ReadFull(br, ver[:]); err != nil {
		return err
	}
	user := make([]byte, ver[1])
	if _, err := io.ReadFull(br, user); err != nil {
		return err
	}
	var plen [1]byte
	if _, err := io.ReadFull(br, plen[:]); err != nil {
		return err
	}
	pass := make([]byte, plen[0])
	if _, err := io.ReadFull(br, pass); err != nil {
		return err
	}
	ok := ver[0] == socksUserPassVersion
	if secret != "" {
		ok = ok && subtle.ConstantTimeCompare(user, []byte(secretUser))&
			subtle.ConstantTimeCompare(pass, []byte(secret)) == 1
	}
	status := byte(0)
	if !ok {
		status = 1
	}
	if _, err := c.Write([]byte{socksUserPassVersion, status}); err != nil {
		return err
	}
	if !ok {
		return errors.New("the SOCKS5 client did not present the proxy secret")
	}
	return nil
}

// socksReplyError turns a non-zero reply code into an error for clients.
func socksReplyError(code byte) error {
	text := map[byte]string{
		socksGeneralFailure:      "general failure",
		socksNotAllowed:          "connection not allowed by ruleset",
		socksNetworkUnreachable:  "network unreachable",
		socksHostUnreachable:     "host unreachable",
		socksConnectionRefused:   "connection refused",
		0x06:                     "TTL expired",
		socksCommandNotSupported: "command not supported",
		socksAddrNotSupported:    "address type not supported",
	}[code]
	if text == "" {
		text = "reply code " + strconv.Itoa(int(code))
	}
	return errors.New("SOCKS5 proxy refused: " + text)
}
