package cmdrules_test

import (
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/policy/cmdrules"
)

// The analyser's tests (internal/cmdpolicy) judge these types through the
// compiled policy; these check what the pure package promises on its own.

func TestValidateReportsEveryProblem(t *testing.T) {
	c := cmdrules.Config{
		Default:           cmdrules.Decision(7),
		ProtectedBranches: []string{"a b"},
		Builtin:           map[string]cmdrules.Decision{"deploi": cmdrules.Allow, "undecidable/eval": cmdrules.Allow},
		Rules: []cmdrules.Rule{
			{Name: "x", Match: []string{"git", "**", "push"}, Decision: cmdrules.Ask},
			{Name: "x", Match: []string{"git", `a\`}, Decision: cmdrules.Ask},
		},
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted an invalid config")
	}
	for _, want := range []string{
		"commands.default: Decision(7) is not a decision",
		`commands.protected_branches[0] "a b"`,
		`commands.builtin: "deploi" is neither a built-in category`,
		"commands.builtin.undecidable/eval = allow: commands cordon cannot judge are at least ask",
		`commands.rule[0] ("x"): match[1] "**": only the last token`,
		`commands.rule[1] ("x"): the name is already used by commands.rule[0]`,
		`commands.rule[1] ("x"): match[1] "a\\": ends with a lone backslash`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate's error does not say %q:\n%v", want, err)
		}
	}
	ok := cmdrules.Config{Builtin: map[string]cmdrules.Decision{cmdrules.CategoryDeploy: cmdrules.Allow, "deploy/helm": cmdrules.Deny}}
	if err := ok.Validate(); err != nil {
		t.Errorf("a valid config: %v", err)
	}
}

func TestBuiltinDecision(t *testing.T) {
	c := cmdrules.Config{Builtin: map[string]cmdrules.Decision{
		cmdrules.CategoryDeploy: cmdrules.Allow, "deploy/helm": cmdrules.Deny, cmdrules.CategoryUndecidable: cmdrules.Allow}}
	for name, want := range map[string]cmdrules.Decision{
		"deploy/kubectl":                 cmdrules.Allow, // the category's entry
		"deploy/helm":                    cmdrules.Deny,  // the rule's own entry wins
		"pr-merge/gh-pr-merge":           cmdrules.Ask,   // the default
		"undecidable/eval":               cmdrules.Ask,   // never below ask
		"secret-access/gh-auth-token":    cmdrules.Ask,
		"dependency-install/npm":         cmdrules.Ask,
		"database-write/psql":            cmdrules.Ask,
		"pr-merge/git-push-protected":    cmdrules.Ask,
		"undecidable/dynamic-command":    cmdrules.Ask,
		"secret-access/read-secret-file": cmdrules.Ask,
	} {
		if !cmdrules.IsBuiltinName(name) {
			t.Errorf("%s is not in BuiltinNames", name)
		}
		if got := c.BuiltinDecision(name); got != want {
			t.Errorf("BuiltinDecision(%s) = %v, want %v", name, got, want)
		}
	}
	for _, n := range cmdrules.BuiltinNames() {
		if !cmdrules.IsCategory(cmdrules.CategoryOf(n)) {
			t.Errorf("built-in rule %s: %q is no category", n, cmdrules.CategoryOf(n))
		}
	}
}

// TestTightenMarks: what a less-trusted layer adds is marked tighten-only,
// raises decisions, and cannot be handed back as trusted through the
// accessors.
func TestTightenMarks(t *testing.T) {
	base := cmdrules.Config{Rules: []cmdrules.Rule{{Name: "mine", Match: []string{"make"}, Decision: cmdrules.Allow}}}
	layer := cmdrules.Config{
		Default:           cmdrules.Ask,
		ProtectedBranches: []string{"prod"},
		Builtin:           map[string]cmdrules.Decision{cmdrules.CategoryDeploy: cmdrules.Deny},
		Rules:             []cmdrules.Rule{{Name: "no-curl", Match: []string{"curl", "**"}, Decision: cmdrules.Deny}},
	}
	got, err := base.Tighten(layer, "ws")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rules) != 2 || got.Rules[0].TightenOnly() || !got.Rules[1].TightenOnly() || got.Rules[1].Source != "ws" {
		t.Errorf("rules after Tighten: %+v; want the base rule trusted and the layer's tighten-only from ws", got.Rules)
	}
	if layer.Rules[0].TightenOnly() || base.Rules[0].TightenOnly() || len(base.Rules) != 1 {
		t.Error("Tighten changed its inputs")
	}
	if d := got.BuiltinDecision("deploy/helm"); d != cmdrules.Deny {
		t.Errorf("deploy/helm after the layer raised deploy: %v, want deny", d)
	}
	if d := got.DefaultDecision(); d != cmdrules.Ask {
		t.Errorf("default after Tighten: %v, want ask", d)
	}
	lb := got.LayerBranches()
	if len(lb) != 1 || lb[0] != (cmdrules.LayerBranch{Branch: "prod", Source: "ws"}) {
		t.Fatalf("LayerBranches = %+v", lb)
	}
	lb[0].Branch = "changed"
	if got.LayerBranches()[0].Branch != "prod" {
		t.Error("LayerBranches returned the config's own slice")
	}
	if len(got.ProtectedBranches) != 0 {
		t.Errorf("a layer's protected branches went into the trusted list: %q", got.ProtectedBranches)
	}
	if _, err := got.Tighten(cmdrules.Config{Default: cmdrules.Allow}, "ws2"); err == nil ||
		!strings.Contains(err.Error(), "policy layer ws2: commands.default = allow would loosen the default ask") {
		t.Errorf("loosening the default: %v", err)
	}
}

func TestDecisionText(t *testing.T) {
	for _, d := range []cmdrules.Decision{cmdrules.Allow, cmdrules.Ask, cmdrules.Deny} {
		b, err := d.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back cmdrules.Decision
		if err := back.UnmarshalText([]byte(strings.ToUpper(string(b)))); err != nil || back != d {
			t.Errorf("%v: round trip gave %v, %v", d, back, err)
		}
	}
	if _, err := cmdrules.Decision(0).MarshalText(); err == nil {
		t.Error("the unset decision was encoded")
	}
	if _, err := cmdrules.ParseDecision("maybe"); err == nil || !strings.Contains(err.Error(), `"maybe"`) {
		t.Errorf("ParseDecision(maybe): %v", err)
	}
}
