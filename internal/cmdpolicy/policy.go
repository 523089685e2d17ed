package cmdpolicy

import (
	"fmt"
	"strings"
)

// Policy is a compiled command policy: the built-in rules at their
// configured decisions, the policy's own rules, and the default decision.
// It is immutable and safe for concurrent use.
type Policy struct {
	rules     []*rule
	byName    map[string]*rule
	def       Decision
	strictest *rule // the rule with the strictest decision; nil if the default is stricter
	maxDec    Decision
}

// rule is a compiled rule, built-in or from a policy file.
type rule struct {
	name, category, reason, source string
	decision                       Decision
	tightenOnly                    bool
	m                              matcher // nil for the undecidable rules
}

// New validates c and compiles it.
func New(c Config) (*Policy, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	p := &Policy{byName: map[string]*rule{}, def: c.DefaultDecision()}
	protected := make([]pattern, 0, len(defaultProtectedBranches)+len(c.ProtectedBranches))
	for _, b := range append(append([]string(nil), defaultProtectedBranches...), c.ProtectedBranches...) {
		protected = append(protected, mustPattern(strings.TrimPrefix(b, "refs/heads/")))
	}
	for _, b := range tables().builtinRules {
		m := b.m
		if b.protected {
			m = gitPushMatcher{protected: protected}
		}
		p.addRule(&rule{name: b.name, category: b.category, reason: b.reason, source: "builtin",
			decision: c.BuiltinDecision(b.name), m: m})
	}
	layers := map[string][]pattern{}
	var order []string
	for _, lb := range c.LayerBranches() {
		if layers[lb.Source] == nil {
			order = append(order, lb.Source)
		}
		layers[lb.Source] = append(layers[lb.Source], mustPattern(strings.TrimPrefix(lb.Branch, "refs/heads/")))
	}
	for _, source := range order {
		b := builtinByName(ruleGitPushProtected)
		p.rules = append(p.rules, &rule{name: b.name, category: b.category, reason: b.reason, source: source,
			decision: c.BuiltinDecision(b.name), tightenOnly: true, m: gitPushMatcher{protected: layers[source]}})
	}
	for i, r := range c.Rules {
		m, err := compileRule(r)
		if err != nil { // Validate has accepted it; this is a bug
			return nil, fmt.Errorf("%s: %w", ruleLabel(r, i), err)
		}
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("commands.rule[%d]", i)
		}
		source := r.Source
		if source == "" {
			source = "policy"
		}
		reason := r.Reason
		if reason == "" {
			reason = "policy rule " + name
		}
		p.addRule(&rule{name: name, category: r.Category, reason: reason, source: source,
			decision: r.Decision, tightenOnly: r.TightenOnly(), m: m})
	}
	p.maxDec = p.def
	for _, r := range p.rules {
		if r.decision > p.maxDec {
			p.maxDec, p.strictest = r.decision, r
		}
	}
	return p, nil
}

func (p *Policy) addRule(r *rule) {
	p.rules = append(p.rules, r)
	if _, dup := p.byName[r.name]; !dup {
		p.byName[r.name] = r
	}
}

// Result is the decision for a whole command line.
type Result struct {
	// Decision is the strictest decision of the parts: every part must pass.
	Decision Decision `json:"decision"`
	// Parts are the commands the command line runs, each judged on its own.
	Parts []Part `json:"parts"`
}

// Part is the decision for one command of a command line.
type Part struct {
	// Command is the command as written (for a command run by a wrapper,
	// what the wrapper runs).
	Command  string   `json:"command"`
	Decision Decision `json:"decision"`
	// Category is the risk category of the rule that decided ("" if none).
	Category string `json:"category"`
	// Rule names the rule that decided; "" when the default decided.
	Rule string `json:"rule"`
	// Reason explains the decision to the human and the agent.
	Reason string `json:"reason"`
	// Source is where the deciding rule is written: "builtin", "policy" or
	// the name the policy loader gave a file.
	Source string `json:"source,omitempty"`
}

// Check judges a command given as an argument vector, as `cordon run --
// CMD...` receives it: no shell reads it, so its words are exact. Wrappers
// (sudo, env, bash -c '...') are still seen through.
func (p *Policy) Check(argv []string) Result {
	a := &analysis{p: p}
	if len(argv) > 0 {
		for _, arg := range argv {
			a.code.literal(arg)
		}
		a.command(&command{words: exactWords(argv), text: joinWords(exactWords(argv))}, unwrapped{}, &scope{funcs: map[string]bool{}})
	}
	a.finish()
	return a.result()
}

// CheckScript judges a shell command line, as an agent hands it to a shell.
func (p *Policy) CheckScript(script string) Result {
	a := &analysis{p: p}
	a.script(script, 0)
	a.finish()
	return a.result()
}

func (a *analysis) result() Result {
	r := Result{Decision: Allow, Parts: a.parts}
	if r.Parts == nil {
		r.Parts = []Part{}
	}
	for _, part := range a.parts {
		r.Decision = max(r.Decision, part.Decision)
	}
	return r
}

type hit struct {
	r      *rule
	v      verdict
	detail string
}

// judge decides one part; s is nil for a part that runs no program (an
// assignment), which only findings apply to. Every rule that applies is considered and the
// strictest decision wins; the default decides only when no trusted rule
// certainly applies. Rules from less-trusted layers (tightenOnly) can only
// raise the decision. A finding that code runs which cordon cannot see
// raises the decision to the strictest in the policy: any rule could apply
// to that code. hit reports whether any rule applied.
func (p *Policy) judge(s *subject, text string, findings []finding, kind partKind) (Part, bool) {
	var hits []hit
	var opaque *finding
	for i, f := range findings {
		hits = append(hits, hit{r: p.byName[f.rule], v: yes, detail: f.detail})
		if f.opaque && opaque == nil {
			opaque = &findings[i]
		}
	}
	for _, r := range p.rules {
		if r.m == nil || s == nil {
			continue
		}
		if v, detail := r.m.match(s); v != no {
			hits = append(hits, hit{r: r, v: v, detail: detail})
		}
	}
	certain := false
	for _, h := range hits {
		if h.v == yes && !h.r.tightenOnly {
			certain = true
		}
	}
	part := Part{Command: text}
	var by *hit
	if !certain {
		part.Decision = p.def
		if kind != kindProgram {
			part.Decision = Allow
		}
	}
	// Trusted rules first, then those of less-trusted layers; among equal
	// decisions the first rule that certainly applies is named.
	for _, tightenOnly := range []bool{false, true} {
		for i := range hits {
			h := &hits[i]
			if h.r.tightenOnly != tightenOnly {
				continue
			}
			stricter := h.r.decision > part.Decision
			tie := h.r.decision == part.Decision &&
				(by == nil && (h.v == yes || h.r.decision > Allow) || by != nil && h.v > by.v)
			if stricter || tie {
				part.Decision, by = h.r.decision, h
			}
		}
	}
	switch {
	case by != nil:
		part.Rule, part.Category, part.Source = by.r.name, by.r.category, by.r.source
		part.Reason = by.r.reason
		if by.detail != "" {
			if by.v == maybe {
				part.Reason += ", which could apply: " + by.detail
			} else {
				part.Reason += ": " + by.detail
			}
		}
	case kind == kindWrapper:
		part.Reason = "runs the command that follows, which is judged as its own part"
	case kind == kindBuiltin || kind == kindQuiet:
		part.Reason = "a shell built-in that runs no program; no rule applies"
	default:
		part.Reason = fmt.Sprintf("no rule applies; the default decision is %v (the sandbox still confines the command)", p.def)
	}
	if opaque != nil && p.maxDec > part.Decision {
		part = p.escalate(part, *opaque)
	}
	return part, len(hits) > 0
}

// escalate raises a part that runs invisible code to the strictest decision
// in the policy.
func (p *Policy) escalate(part Part, f finding) Part {
	base := p.byName[f.rule]
	part.Decision = p.maxDec
	if p.strictest == nil {
		part.Rule, part.Category, part.Source = base.name, base.category, base.source
		part.Reason = fmt.Sprintf("%s; the default decision %v could apply to what it runs, which cordon cannot see", f.detail, p.maxDec)
		return part
	}
	part.Rule, part.Category, part.Source = p.strictest.name, p.strictest.category, p.strictest.source
	part.Reason = fmt.Sprintf("%s; rule %s (%v: %s) could apply to what it runs, which cordon cannot see",
		f.detail, p.strictest.name, p.maxDec, p.strictest.reason)
	return part
}

// judgeOpaque judges shell code cordon could not read at all.
func (p *Policy) judgeOpaque(code string, f finding) Part {
	part, _ := p.judge(&subject{argv: []word{unknownWord(code)}}, shorten(code), []finding{f}, kindWrapper)
	return part
}

func shorten(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// RuleInfo describes a rule for listings such as `cordon policy show`.
type RuleInfo struct {
	Name     string   `json:"name"`
	Category string   `json:"category,omitempty"`
	Decision Decision `json:"decision"`
	// Match says what the rule matches: the rule's pattern, or a
	// description for rules cordon implements in code.
	Match  string `json:"match"`
	Reason string `json:"reason"`
	// Source is "builtin", "policy", or the name the loader gave the layer.
	Source string `json:"source"`
	// TightenOnly marks a rule from a less-trusted layer: it can only make
	// decisions stricter.
	TightenOnly bool `json:"tighten_only,omitempty"`
}

// Rules lists every rule of the policy, built-in ones first, with the
// decision each has under this policy.
func (p *Policy) Rules() []RuleInfo {
	out := make([]RuleInfo, 0, len(p.rules))
	for _, r := range p.rules {
		match := "raised by cordon's analysis of the command line"
		if r.m != nil {
			match = r.m.String()
		}
		out = append(out, RuleInfo{Name: r.name, Category: r.category, Decision: r.decision, Match: match,
			Reason: r.reason, Source: r.source, TightenOnly: r.tightenOnly})
	}
	return out
}

// Default returns the decision for commands no rule matches.
func (p *Policy) Default() Decision { return p.def }

// Builtins lists the built-in rules at their default decisions.
func Builtins() []RuleInfo {
	p, err := New(Config{})
	if err != nil {
		panic("cmdpolicy: the built-in rules do not compile: " + err.Error())
	}
	return p.Rules()
}
