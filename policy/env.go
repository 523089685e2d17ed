package policy

import (
	"sort"
	"strings"
)

// EnvDecision says what happened to one variable of the caller's environment.
type EnvDecision struct {
	Name   string
	Passed bool
	// Rule is the pattern that decided, and From where it came from.
	Rule string
	From Source
}

// FilterEnv returns the variables of environ (KEY=VALUE) that may enter the
// sandbox, sorted by name, and what was decided for each. A variable passes
// when a pass pattern matches it and no deny pattern does. A built-in deny
// pattern yields only to a pass entry the user wrote with the exact name;
// deny patterns the user or the workspace added always win. Set entries are
// added last and win.
func (p *Policy) FilterEnv(environ []string) ([]string, []EnvDecision) {
	vals := map[string]string{}
	var decisions []EnvDecision
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		d := p.decideEnv(name)
		decisions = append(decisions, d)
		if d.Passed {
			vals[name] = val
		}
	}
	for k, it := range p.Env.Set {
		vals[k] = it.Value
	}
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, k := range names {
		out = append(out, k+"="+vals[k])
	}
	sort.Slice(decisions, func(i, j int) bool { return decisions[i].Name < decisions[j].Name })
	return out, decisions
}

func (p *Policy) decideEnv(name string) EnvDecision {
	var pass *Item
	for i := range p.Env.Pass {
		if matchEnvPattern(p.Env.Pass[i].Value, name) {
			pass = &p.Env.Pass[i]
			break
		}
	}
	if pass == nil {
		return EnvDecision{Name: name, Passed: false, Rule: "not in environment.pass"}
	}
	for i := range p.Env.Deny {
		d := &p.Env.Deny[i]
		if !matchEnvPattern(d.Value, name) {
			continue
		}
		// An exact name in a pass list the user wrote is explicit consent
		// that overrides the built-in guesses; a prefix pattern is not, and
		// a deny the user or the workspace added always wins.
		if pass.Value == name && pass.From.Layer != LayerBuiltin && d.From.Layer == LayerBuiltin {
			continue
		}
		return EnvDecision{Name: name, Passed: false, Rule: d.Value, From: d.From}
	}
	return EnvDecision{Name: name, Passed: true, Rule: pass.Value, From: pass.From}
}

// matchEnvPattern matches a variable name against a pattern in which * stands
// for any run of characters, case-insensitively.
func matchEnvPattern(pattern, name string) bool {
	return globMatch(strings.ToUpper(pattern), strings.ToUpper(name))
}

// globMatch matches s against a pattern whose only wildcard is *. It
// allocates nothing: every command's environment is filtered with it.
func globMatch(pattern, s string) bool {
	first, rest, wild := strings.Cut(pattern, "*")
	if !wild {
		return pattern == s
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for {
		mid, after, more := strings.Cut(rest, "*")
		if !more {
			return strings.HasSuffix(s, rest)
		}
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s, rest = s[i+len(mid):], after
	}
}
