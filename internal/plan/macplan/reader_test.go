package macplan

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// A small reader for the SBPL the planner writes, so that tests judge the
// rendered text rather than the data it came from. It reads s-expressions
// (lists, symbols, numbers, "strings" with only \" and \\ escapes, ;
// comments) and rejects everything else, including the #"regex" literals
// the planner never writes. check then validates the shape of a profile:
// (version 1), (deny default), then rules whose operations and filters are
// the ones this package may write, with parameters that are all defined.

type sexpr struct {
	list   []sexpr
	atom   string // symbol or number
	str    *string
	isList bool
}

func (e sexpr) String() string {
	switch {
	case e.isList:
		parts := make([]string, len(e.list))
		for i, x := range e.list {
			parts[i] = x.String()
		}
		return "(" + strings.Join(parts, " ") + ")"
	case e.str != nil:
		return strconv.Quote(*e.str)
	}
	return e.atom
}

// readAll reads every top-level form of src.
func readAll(src string) ([]sexpr, error) {
	r := &reader{src: src}
	var out []sexpr
	for {
		r.skip()
		if r.pos >= len(r.src) {
			return out, nil
		}
		e, err := r.read()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
}

type reader struct {
	src string
	pos int
}

func (r *reader) errorf(format string, args ...any) error {
	line := strings.Count(r.src[:min(r.pos, len(r.src))], "\n") + 1
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

func (r *reader) skip() {
	for r.pos < len(r.src) {
		c := r.src[r.pos]
		switch {
		case c == ';':
			for r.pos < len(r.src) && r.src[r.pos] != '\n' {
				r.pos++
			}
		case c == ' ' || c == '\n' || c == '\t':
			r.pos++
		default:
			return
		}
	}
}

func (r *reader) read() (sexpr, error) {
	r.skip()
	if r.pos >= len(r.src) {
		return sexpr{}, r.errorf("unexpected end of profile (unbalanced parentheses)")
	}
	switch c := r.src[r.pos]; {
	case c == '(':
		r.pos++
		e := sexpr{isList: true}
		for {
			r.skip()
			if r.pos >= len(r.src) {
				return sexpr{}, r.errorf("unbalanced parentheses: a list is not closed")
			}
			if r.src[r.pos] == ')' {
				r.pos++
				return e, nil
			}
			x, err := r.read()
			if err != nil {
				return sexpr{}, err
			}
			e.list = append(e.list, x)
		}
	case c == ')':
		return sexpr{}, r.errorf("unbalanced parentheses: ) without (")
	case c == '"':
		r.pos++
		var b strings.Builder
		for {
			if r.pos >= len(r.src) {
				return sexpr{}, r.errorf("unterminated string")
			}
			c := r.src[r.pos]
			r.pos++
			switch c {
			case '"':
				s := b.String()
				return sexpr{str: &s}, nil
			case '\\':
				if r.pos >= len(r.src) || (r.src[r.pos] != '"' && r.src[r.pos] != '\\') {
					return sexpr{}, r.errorf("string escape other than \\\" or \\\\")
				}
				b.WriteByte(r.src[r.pos])
				r.pos++
			case '\n', '\r':
				return sexpr{}, r.errorf("line break inside a string")
			default:
				b.WriteByte(c)
			}
		}
	case c == '#':
		return sexpr{}, r.errorf("# literals (regular expressions, booleans) are never written by the planner")
	default:
		start := r.pos
		for r.pos < len(r.src) {
			c := rune(r.src[r.pos])
			if c == '(' || c == ')' || c == '"' || c == ';' || unicode.IsSpace(c) {
				break
			}
			if !(unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune("*-_.:/@", c)) {
				return sexpr{}, r.errorf("character %q outside a string", c)
			}
			r.pos++
		}
		return sexpr{atom: r.src[start:r.pos]}, nil
	}
}

// knownOps are the operations the planner may write.
var knownOps = map[string]bool{
	"process-fork": true, "process-exec": true, "signal": true, "process-info*": true,
	"file-read*": true, "file-write*": true, "file-write-data": true, "file-ioctl": true,
	"file-read-data": true, "pseudo-tty": true, "system-socket": true,
	"network-bind": true, "network-inbound": true, "network-outbound": true, "network*": true,
	"mach-lookup": true, "user-preference-read": true, "mach-host*": true,
	"sysctl-read": true, "sysctl-write": true, "iokit-open": true,
	"ipc-posix-sem": true, "ipc-posix-shm-read-data": true, "ipc-posix-shm-read-metadata": true,
}

// rule is a parsed (allow|deny ...) form.
type rule struct {
	action  string
	ops     []string
	filters []sexpr
}

// parsedProfile is a checked profile.
type parsedProfile struct {
	rules []rule
	// params are the keys the profile refers to.
	params map[string]bool
}

// check validates a profile's forms and returns its rules.
func check(forms []sexpr) (*parsedProfile, error) {
	if len(forms) < 2 || forms[0].String() != "(version 1)" || forms[1].String() != "(deny default)" {
		return nil, fmt.Errorf("a profile starts with (version 1) and (deny default)")
	}
	pp := &parsedProfile{params: map[string]bool{}}
	for _, f := range forms[2:] {
		if !f.isList || len(f.list) < 2 {
			return nil, fmt.Errorf("not a rule: %s", f)
		}
		act := f.list[0].atom
		if act != "allow" && act != "deny" {
			return nil, fmt.Errorf("rule %s: action %q", f, act)
		}
		r := rule{action: act}
		i := 1
		for ; i < len(f.list) && !f.list[i].isList; i++ {
			op := f.list[i].atom
			if f.list[i].str != nil || !knownOps[op] {
				return nil, fmt.Errorf("rule %s: unknown operation %s", f, f.list[i])
			}
			r.ops = append(r.ops, op)
		}
		if len(r.ops) == 0 {
			return nil, fmt.Errorf("rule %s: no operation", f)
		}
		for ; i < len(f.list); i++ {
			if err := checkFilter(f.list[i], pp.params); err != nil {
				return nil, fmt.Errorf("rule %s: %w", f, err)
			}
			r.filters = append(r.filters, f.list[i])
		}
		pp.rules = append(pp.rules, r)
	}
	return pp, nil
}

func isStr(e sexpr) bool { return e.str != nil }

// checkValue accepts "string" or (param "KEY").
func checkValue(e sexpr, params map[string]bool) error {
	if isStr(e) {
		return nil
	}
	if e.isList && len(e.list) == 2 && e.list[0].atom == "param" && isStr(e.list[1]) {
		params[*e.list[1].str] = true
		return nil
	}
	return fmt.Errorf("%s is neither a string nor (param \"KEY\")", e)
}

func checkFilter(e sexpr, params map[string]bool) error {
	if !e.isList || len(e.list) == 0 || e.list[0].isList || isStr(e.list[0]) {
		return fmt.Errorf("filter %s is not a form", e)
	}
	args := e.list[1:]
	one := func() error {
		if len(args) != 1 {
			return fmt.Errorf("filter %s takes one argument", e)
		}
		return nil
	}
	switch head := e.list[0].atom; head {
	case "literal", "subpath", "prefix":
		if err := one(); err != nil {
			return err
		}
		return checkValue(args[0], params)
	case "global-name", "sysctl-name", "sysctl-name-prefix", "extension", "iokit-user-client-class", "ipc-posix-name":
		if err := one(); err != nil {
			return err
		}
		if !isStr(args[0]) {
			return fmt.Errorf("filter %s takes a string", e)
		}
		return nil
	case "target":
		if err := one(); err != nil {
			return err
		}
		if a := args[0].atom; a != "same-sandbox" && a != "self" {
			return fmt.Errorf("filter %s: unknown target", e)
		}
		return nil
	case "socket-domain":
		if err := one(); err != nil || args[0].atom != "AF_UNIX" {
			return fmt.Errorf("filter %s: want (socket-domain AF_UNIX)", e)
		}
		return nil
	case "remote", "local":
		if len(args) != 2 {
			return fmt.Errorf("filter %s takes two arguments", e)
		}
		switch args[0].atom {
		case "ip":
			if !isStr(args[1]) {
				return fmt.Errorf("filter %s: want (remote ip \"HOST:PORT\")", e)
			}
			if head == "local" && *args[1].str != "*:*" {
				return fmt.Errorf("filter %s: a local address other than *:* is never written", e)
			}
			host, port, ok := strings.Cut(*args[1].str, ":")
			if !ok || host != "localhost" && host != "*" {
				return fmt.Errorf("filter %s: Seatbelt takes only localhost or * as the host", e)
			}
			if _, err := strconv.Atoi(port); err != nil && port != "*" {
				return fmt.Errorf("filter %s: bad port", e)
			}
			return nil
		case "unix-socket":
			return checkFilter(args[1], params)
		}
		return fmt.Errorf("filter %s: unknown address kind", e)
	case "require-all", "require-any":
		if len(args) == 0 {
			return fmt.Errorf("filter %s is empty", e)
		}
		for _, a := range args {
			if err := checkFilter(a, params); err != nil {
				return err
			}
		}
		return nil
	case "require-not":
		if err := one(); err != nil {
			return err
		}
		return checkFilter(args[0], params)
	}
	return fmt.Errorf("unknown filter %s", e)
}
