package macplan

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
)

// An evaluator of checked profiles: "may this process do OPERATION on X?".
//
// Precedence. Apple documents none of SBPL. The public references agree
// that the last matching rule decides ("Seatbelt is last-match-wins",
// anthropics/sandbox-runtime src/sandbox/macos-sandbox-utils.ts; the same in
// the Apple Sandbox Guide v1.0 by fG!, reverse.put.as, which Chromium's
// sandbox/mac/seatbelt_sandbox_design.md points to). sandbox-runtime also
// reports a refinement seen on real Macs: a rule naming an operation
// exactly (deny file-write-unlink) is not overridden by a later rule that
// reaches it through a wildcard (allow file-write*). The evaluator answers
// under both readings, and the tests require them to agree on every
// question asked, so the profile's meaning does not hang on which is right.

// query is one access.
type query struct {
	op     string // a concrete operation: file-read-data, network-outbound, ...
	path   string // files, exec, unix sockets
	unix   bool   // a unix socket at path
	remote string // host:port of a TCP/UDP destination
	name   string // Mach service, sysctl, IOKit class, IPC name
	target string // signals and process information: same-sandbox, self, others
	domain string // socket domain
	ext    string // a sandbox extension the file carries
}

func (q query) String() string {
	parts := []string{q.op}
	for _, s := range []string{q.path, q.remote, q.name, q.target, q.domain} {
		if s != "" {
			parts = append(parts, strconv.Quote(s))
		}
	}
	return strings.Join(parts, " ")
}

type evaluator struct {
	pp     *parsedProfile
	params map[string]string
}

func newEvaluator(pp *parsedProfile, params []Param) (*evaluator, error) {
	ev := &evaluator{pp: pp, params: map[string]string{}}
	for _, p := range params {
		if _, dup := ev.params[p.Key]; dup {
			return nil, fmt.Errorf("parameter %s is defined twice", p.Key)
		}
		ev.params[p.Key] = p.Value
	}
	for k := range pp.params {
		if _, ok := ev.params[k]; !ok {
			return nil, fmt.Errorf("the profile refers to parameter %s, which is not passed (sandbox-exec would fail)", k)
		}
	}
	for k := range ev.params {
		if !pp.params[k] {
			return nil, fmt.Errorf("parameter %s is passed but never used", k)
		}
	}
	return ev, nil
}

// opMatches says whether a rule's operation covers the concrete one, and
// whether it names it exactly.
func opMatches(ruleOp, op string) (match, exact bool) {
	if ruleOp == op {
		return true, true
	}
	if p, ok := strings.CutSuffix(ruleOp, "*"); ok && strings.HasPrefix(op, p) {
		return true, false
	}
	return false, false
}

// allowed answers under both readings of precedence; it fails if they
// differ.
func (ev *evaluator) allowed(q query) (bool, error) {
	lastAny, lastExact := "deny", ""
	for _, r := range ev.pp.rules {
		var match, exact bool
		for _, op := range r.ops {
			if m, e := opMatches(op, q.op); m {
				match = true
				exact = exact || e
			}
		}
		if !match || !ev.filtersMatch(r.filters, q) {
			continue
		}
		lastAny = r.action
		if exact {
			lastExact = r.action
		}
	}
	lastMatch := lastAny == "allow"
	specific := lastMatch
	if lastExact != "" {
		specific = lastExact == "allow"
	}
	if lastMatch != specific {
		return false, fmt.Errorf("%s: last match says %v, specific-operation-first says %v: the profile depends on a precedence rule nobody documents", q, lastMatch, specific)
	}
	return lastMatch, nil
}

func (ev *evaluator) filtersMatch(fs []sexpr, q query) bool {
	if len(fs) == 0 {
		return true
	}
	for _, f := range fs {
		if ev.match(f, q) {
			return true
		}
	}
	return false
}

func (ev *evaluator) value(e sexpr) string {
	if e.str != nil {
		return *e.str
	}
	return ev.params[*e.list[1].str]
}

func (ev *evaluator) pathMatch(head string, v string, p string) bool {
	if p == "" {
		return false
	}
	switch head {
	case "literal":
		return p == v
	case "subpath":
		return unixplan.Under(p, v)
	case "prefix":
		return strings.HasPrefix(p, v)
	}
	return false
}

func (ev *evaluator) match(f sexpr, q query) bool {
	head, args := f.list[0].atom, f.list[1:]
	switch head {
	case "literal", "subpath", "prefix":
		return !q.unix && ev.pathMatch(head, ev.value(args[0]), q.path)
	case "global-name":
		return q.op == "mach-lookup" && q.name == *args[0].str
	case "sysctl-name":
		return strings.HasPrefix(q.op, "sysctl-") && q.name == *args[0].str
	case "sysctl-name-prefix":
		return strings.HasPrefix(q.op, "sysctl-") && q.name != "" && strings.HasPrefix(q.name, *args[0].str)
	case "iokit-user-client-class":
		return strings.HasPrefix(q.op, "iokit-") && q.name == *args[0].str
	case "ipc-posix-name":
		return strings.HasPrefix(q.op, "ipc-posix-") && q.name == *args[0].str
	case "extension":
		return q.ext == *args[0].str
	case "target":
		t := args[0].atom
		return q.target == t || t == "same-sandbox" && q.target == "self"
	case "socket-domain":
		return q.domain == args[0].atom
	case "remote", "local":
		switch args[0].atom {
		case "ip":
			if head == "local" {
				return q.op != "network-outbound" && remoteMatch(*args[1].str, q.remote)
			}
			return remoteMatch(*args[1].str, q.remote)
		case "unix-socket":
			inner := args[1]
			if !q.unix {
				return false
			}
			if inner.list[0].atom == "literal" || inner.list[0].atom == "subpath" || inner.list[0].atom == "prefix" {
				return ev.pathMatch(inner.list[0].atom, ev.value(inner.list[1]), q.path)
			}
			return ev.match(inner, q)
		}
	case "require-all":
		for _, a := range args {
			if !ev.match(a, q) {
				return false
			}
		}
		return true
	case "require-any":
		for _, a := range args {
			if ev.match(a, q) {
				return true
			}
		}
		return false
	case "require-not":
		return !ev.match(args[0], q)
	}
	return false
}

// remoteMatch matches "localhost:PORT" (loopback addresses) or "*:PORT".
func remoteMatch(pattern, addr string) bool {
	if addr == "" {
		return false
	}
	ph, pp, _ := strings.Cut(pattern, ":")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if pp != "*" && pp != port {
		return false
	}
	if ph == "*" {
		return true
	}
	ip := net.ParseIP(host)
	// Seatbelt's localhost is 127.0.0.1 and ::1, not ::ffff:127.0.0.1
	// (sandbox-runtime's notes).
	return ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) && ip.To4() != nil && !strings.HasPrefix(host, "::ffff:") || ip.Equal(net.IPv6loopback))
}
