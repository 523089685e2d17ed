package netproxy

import (
	"github.com/cordon-sandbox/cordon/policy/netpolicy"

	"context"
	"fmt"
)

// keyRequests names the request rules in events when no single rule
// decided (a path they cannot judge, a tunnel they cannot see into).
const keyRequests = "network.requests"

// judgeRequest applies the request rules to one request the proxy can read
// (inside an intercepted connection, or plain HTTP) before anything of it
// is sent on. It returns nil to let the request through; it names the rule
// that decided in ev.Rule. An ask holds the request while the Asker
// decides; without one, ask behaves as deny.
func (s *Server) judgeRequest(ctx context.Context, t target, method, escapedPath string, ev *ConnEvent) *refusal {
	d := s.rules.DecideRequest(t, method, escapedPath)
	switch {
	case d.Rule != "":
		ev.Rule = d.Rule
	case d.Verdict != Allow:
		ev.Rule = keyRequests
	}
	switch d.Verdict {
	case Allow:
		return nil
	case Deny:
		return policyRefusal(d.Reason, d.Fix)
	}
	if s.opts.Asker == nil {
		return policyRefusal(d.Reason+", but no approval channel is configured, so ask behaves as deny", d.Fix)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.AskTimeout)
	defer cancel()
	// The whole path, never a prefix of it: an answer "for this session"
	// is remembered for exactly the request asked about.
	ok, err := s.opts.Asker.Ask(ctx, Question{Host: t.Host(), Port: t.Port, Protocol: ev.Protocol,
		Method: method, Path: escapedPath, Rule: d.Rule, Reason: d.Reason})
	switch {
	case err != nil && ctx.Err() != nil:
		return policyRefusal(fmt.Sprintf("%s; no answer within %s, which counts as deny", d.Reason, s.opts.AskTimeout), d.Fix)
	case err != nil:
		return policyRefusal(fmt.Sprintf("%s; asking failed (%v), which counts as deny", d.Reason, err), d.Fix)
	case !ok:
		return policyRefusal(d.Reason+"; a human refused it when asked", d.Fix)
	}
	ev.Rule = d.Rule + ", approved when asked"
	return nil
}

// opaque returns a reason to refuse a tunnel to host and port when request
// rules govern it but the proxy would not intercept it: the requests inside
// could not be judged. Fail closed rather than let them pass unseen.
func (s *Server) opaque(host string, port int) *refusal {
	t, err := netpolicy.ParseHost(host)
	if err != nil {
		return nil
	}
	t.Port = port
	if !s.rules.GovernsRequests(t) || s.inject.intercepts(t) {
		return nil
	}
	return policyRefusal(fmt.Sprintf("network.requests govern requests to %s, but no credential is injected into it, so cordon does not intercept it and cannot judge its requests", t.HostPort()),
		"add a [[credentials]] entry whose inject.hosts cover it (docs/credentials.md), or remove its network.requests rules")
}

func withPort(t target, port int) target {
	t.Port = port
	return t
}
