package macplan

import (
	"fmt"
	"strconv"
	"strings"
)

// The profile is built as data and rendered once, so that no path and no
// user-supplied text is ever pasted into it. Strings in the text are either
// constants of this package, from a small safe character set (checked when
// rendering), or parameter references, (param "KEY"), whose values travel
// beside the profile as `sandbox-exec -D KEY=VALUE` arguments and are never
// parsed as SBPL.

// Action is allow or deny.
type Action string

const (
	Allow Action = "allow"
	Deny  Action = "deny"
)

// Rule is one (allow|deny OPERATION... FILTER...) form. A rule with several
// filters matches when any of them does; one with none matches every use of
// its operations.
type Rule struct {
	Action  Action
	Ops     []string
	Filters []Filter
	// Why is written as a comment above the rule.
	Why string
}

// Filter is one filter expression. Build it with the functions below.
type Filter struct {
	head string
	// what follows the head, by kind of filter: a symbol, a value, filters
	sym      string
	value    Value
	hasValue bool
	sub      []Filter
}

// Value is a string in the profile: a parameter or a constant.
type Value struct {
	param string
	konst string
}

// ParamRef refers to the parameter key, which Plan.Params defines.
func ParamRef(key string) Value { return Value{param: key} }

// Const is a constant string of this package (never a user's path).
func Const(s string) Value { return Value{konst: s} }

// IsParam reports whether v is a parameter reference, and its key.
func (v Value) IsParam() (string, bool) { return v.param, v.param != "" }

func str(head string, v Value) Filter        { return Filter{head: head, value: v, hasValue: true} }
func symbol(head, sym string) Filter         { return Filter{head: head, sym: sym} }
func nested(head string, f ...Filter) Filter { return Filter{head: head, sub: f} }

// Path filters.
func Literal(v Value) Filter { return str("literal", v) }
func Subpath(v Value) Filter { return str("subpath", v) }
func Prefix(v Value) Filter  { return str("prefix", v) }

// GlobalName matches a Mach service looked up through the bootstrap server.
func GlobalName(name string) Filter { return str("global-name", Const(name)) }

// RemoteIP matches a connection's destination, "localhost:PORT" or "*:*".
func RemoteIP(hostPort string) Filter {
	return Filter{head: "remote", sym: "ip", value: Const(hostPort), hasValue: true}
}

// LocalIP matches binding or accepting on a local address ("*:*").
func LocalIP(hostPort string) Filter {
	return Filter{head: "local", sym: "ip", value: Const(hostPort), hasValue: true}
}

// RemoteUnix matches connecting to a unix socket whose path the path filter
// matches; LocalUnix matches binding or accepting on one.
func RemoteUnix(path Filter) Filter {
	return Filter{head: "remote", sym: "unix-socket", sub: []Filter{path}}
}
func LocalUnix(path Filter) Filter {
	return Filter{head: "local", sym: "unix-socket", sub: []Filter{path}}
}

// Target matches the process an operation aims at (same-sandbox, self).
func Target(sym string) Filter { return symbol("target", sym) }

func SysctlName(name string) Filter   { return str("sysctl-name", Const(name)) }
func SysctlPrefix(name string) Filter { return str("sysctl-name-prefix", Const(name)) }
func SocketDomain(sym string) Filter  { return symbol("socket-domain", sym) }
func Extension(name string) Filter    { return str("extension", Const(name)) }
func IOKitUserClient(class string) Filter {
	return str("iokit-user-client-class", Const(class))
}
func IPCPosixName(name string) Filter { return str("ipc-posix-name", Const(name)) }

func RequireAll(f ...Filter) Filter { return nested("require-all", f...) }
func RequireAny(f ...Filter) Filter { return nested("require-any", f...) }
func RequireNot(f Filter) Filter    { return nested("require-not", f) }

// Head is the filter's name, for tests and for counting.
func (f Filter) Head() string { return f.head }

// Profile is an SBPL profile: deny by default, then the rules in order.
// Seatbelt applies the last rule that matches an operation; Make puts every
// allow rule before every deny rule, so an explicit deny always wins.
type Profile struct {
	Rules []Rule
}

// safeConst is the character set a constant may use: enough for service
// names, sysctl names, system paths and host:port, and nothing that could
// end a string or start a form.
func safeConst(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("._-/:*@", r):
		default:
			return false
		}
	}
	return true
}

// safeKey is the character set of parameter keys.
func safeKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// safeSym is the character set of operation names and symbols.
func safeSym(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '*') {
			return false
		}
	}
	return true
}

// Render writes the profile's text. It fails, rather than writing a
// profile whose meaning could differ from its rules, when a constant,
// symbol or key falls outside its character set: that is a bug in this
// package, never a property of the user's input.
func (p *Profile) Render() (string, error) {
	var b strings.Builder
	b.WriteString("(version 1)\n(deny default)\n")
	for _, r := range p.Rules {
		if r.Action != Allow && r.Action != Deny {
			return "", fmt.Errorf("bug: rule action %q", r.Action)
		}
		if len(r.Ops) == 0 {
			return "", fmt.Errorf("bug: rule without operations")
		}
		b.WriteByte('\n')
		for _, line := range strings.Split(r.Why, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				if strings.ContainsAny(line, "\r") {
					return "", fmt.Errorf("bug: comment with a carriage return")
				}
				b.WriteString("; " + line + "\n")
			}
		}
		b.WriteString("(" + string(r.Action))
		for _, op := range r.Ops {
			if !safeSym(op) {
				return "", fmt.Errorf("bug: operation %q", op)
			}
			b.WriteString(" " + op)
		}
		for _, f := range r.Filters {
			b.WriteString("\n  ")
			if err := f.render(&b); err != nil {
				return "", err
			}
		}
		b.WriteString(")\n")
	}
	return b.String(), nil
}

func (v Value) render(b *strings.Builder) error {
	if v.param != "" {
		if !safeKey(v.param) {
			return fmt.Errorf("bug: parameter key %q", v.param)
		}
		b.WriteString(`(param "` + v.param + `")`)
		return nil
	}
	if !safeConst(v.konst) {
		return fmt.Errorf("bug: constant %q is outside the safe character set", v.konst)
	}
	b.WriteString(strconv.Quote(v.konst))
	return nil
}

func (f Filter) render(b *strings.Builder) error {
	if !safeSym(f.head) {
		return fmt.Errorf("bug: filter %q", f.head)
	}
	b.WriteString("(" + f.head)
	if f.sym != "" {
		if !safeSym(f.sym) {
			return fmt.Errorf("bug: symbol %q", f.sym)
		}
		b.WriteString(" " + f.sym)
	}
	if f.hasValue {
		b.WriteByte(' ')
		if err := f.value.render(b); err != nil {
			return err
		}
	}
	for _, s := range f.sub {
		b.WriteByte(' ')
		if err := s.render(b); err != nil {
			return err
		}
	}
	b.WriteByte(')')
	return nil
}

// params lists the parameter keys the filter refers to.
func (f Filter) params(out map[string]bool) {
	if k, ok := f.value.IsParam(); ok {
		out[k] = true
	}
	for _, s := range f.sub {
		s.params(out)
	}
}

// ParamKeys lists every parameter key the profile refers to.
func (p *Profile) ParamKeys() map[string]bool {
	out := map[string]bool{}
	for _, r := range p.Rules {
		for _, f := range r.Filters {
			f.params(out)
		}
	}
	return out
}
