package netproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
)

// refusal is why a connection was not opened, with what to answer each
// protocol.
type refusal struct {
	status    int  // HTTP status
	socksCode byte // SOCKS5 reply code
	denied    bool // refused by policy (as opposed to failing)
	reason    string
	fix       string
}

// SOCKS5 reply codes, RFC 1928 section 6.
const (
	socksSucceeded           = 0x00
	socksGeneralFailure      = 0x01
	socksNotAllowed          = 0x02
	socksNetworkUnreachable  = 0x03
	socksHostUnreachable     = 0x04
	socksConnectionRefused   = 0x05
	socksCommandNotSupported = 0x07
	socksAddrNotSupported    = 0x08
)

func policyRefusal(reason, fix string) *refusal {
	return &refusal{status: http.StatusForbidden, socksCode: socksNotAllowed, denied: true, reason: reason, fix: fix}
}

// open decides, asks if needed, resolves, checks each address and dials the
// first that passes. It fills in ev as it goes. Names are resolved only after
// the policy allowed them, and the address that passed the checks is the one
// dialled: there is no second lookup.
func (s *Server) open(ctx context.Context, host string, port int, ev *ConnEvent) (net.Conn, *refusal) {
	d := s.rules.Decide(host, port)
	ev.Host, ev.Port, ev.Rule = d.Host, d.Port, d.Rule
	switch d.Verdict {
	case Deny:
		return nil, policyRefusal(d.Reason, d.Fix)
	case Ask:
		if r := s.ask(ctx, d, ev); r != nil {
			return nil, r
		}
	}
	ev.Allowed = true

	var candidates []netip.Addr
	if d.Target().IP.IsValid() {
		if reason, ok := d.CheckLiteral(); !ok {
			ev.Allowed = false
			return nil, policyRefusal(reason, fmt.Sprintf("add %q to network.allow", d.Target().HostPort()))
		}
		candidates = []netip.Addr{d.Target().IP}
	} else {
		addrs, err := s.opts.Resolver.LookupNetIP(ctx, "ip", d.Target().Name)
		if err != nil || len(addrs) == 0 {
			if err == nil {
				err = errors.New("no addresses")
			}
			return nil, &refusal{status: http.StatusBadGateway, socksCode: socksHostUnreachable,
				reason: fmt.Sprintf("cannot resolve %s: %v", d.Host, err)}
		}
		var firstReason string
		for _, a := range addrs {
			a = a.Unmap().WithZone("")
			if reason, ok := d.CheckResolved(a); !ok {
				if firstReason == "" {
					firstReason = reason
				}
				continue
			}
			candidates = append(candidates, a)
		}
		if len(candidates) == 0 {
			ev.Allowed = false
			return nil, policyRefusal(firstReason, "add "+strconv.Quote(d.Host)+" to network.allow_private if it is meant to reach a private address")
		}
	}

	var lastErr error
	for _, a := range candidates {
		addr := netip.AddrPortFrom(a, uint16(port)).String()
		c, err := s.dial(ctx, "tcp", addr)
		if err == nil {
			ev.Addr = addr
			return c, nil
		}
		lastErr = err
	}
	r := &refusal{status: http.StatusBadGateway, socksCode: socksConnectionRefused,
		reason: fmt.Sprintf("cannot connect to %s: %v", d.Host, lastErr)}
	var ne net.Error
	if errors.As(lastErr, &ne) && ne.Timeout() {
		r.status, r.socksCode = http.StatusGatewayTimeout, socksHostUnreachable
	}
	return nil, r
}

// ask holds the connection while the Asker decides. Without an Asker, ask
// behaves as deny, and the refusal says so.
func (s *Server) ask(ctx context.Context, d Decision, ev *ConnEvent) *refusal {
	if s.opts.Asker == nil {
		return policyRefusal(d.Reason+", but no approval channel is configured, so ask behaves as deny", d.Fix)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.AskTimeout)
	defer cancel()
	ok, err := s.opts.Asker.Ask(ctx, Question{Host: d.Host, Port: d.Port, Protocol: ev.Protocol, Reason: d.Reason})
	switch {
	case err != nil && ctx.Err() != nil:
		return policyRefusal(fmt.Sprintf("%s; no answer within %s, which counts as deny", d.Reason, s.opts.AskTimeout), d.Fix)
	case err != nil:
		return policyRefusal(fmt.Sprintf("%s; asking failed (%v), which counts as deny", d.Reason, err), d.Fix)
	case !ok:
		return policyRefusal(d.Reason+"; a human refused it when asked", d.Fix)
	}
	ev.Rule = "approved when asked"
	return nil
}
