package cmdpolicy

import (
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/cordon-sandbox/cordon/policy/cmdrules"
)

func TestValidateNamesRuleAndValue(t *testing.T) {
	tests := []struct {
		c    Config
		want []string // every one must appear in the error
	}{
		{Config{Rules: []Rule{{Name: "x", Decision: Ask}}}, []string{`commands.rule[0] ("x")`, "match is empty"}},
		{Config{Rules: []Rule{{Match: []string{"git"}}}}, []string{"commands.rule[0]", "decision is missing"}},
		{Config{Rules: []Rule{{Name: "y", Match: []string{"git", "**", "push"}, Decision: Ask}}}, []string{`("y")`, `match[1] "**"`}},
		{Config{Rules: []Rule{{Name: "z", Match: []string{"git", `ab\`}, Decision: Ask}}}, []string{`("z")`, `match[1] "ab\\"`, "backslash"}},
		{Config{Rules: []Rule{{Name: "z", Match: []string{"git", "a||b"}, Decision: Ask}}}, []string{`match[1] "a||b"`, "empty alternative"}},
		{Config{Rules: []Rule{{Name: "c", Match: []string{"git"}, Decision: Ask, Category: "Deploy Prod"}}}, []string{`("c")`, `category "Deploy Prod"`}},
		{Config{Rules: []Rule{{Name: "a/b", Match: []string{"git"}, Decision: Ask}}}, []string{`name "a/b"`}},
		{Config{Rules: []Rule{{Name: "d", Match: []string{"a"}, Decision: Ask}, {Name: "d", Match: []string{"b"}, Decision: Ask}}},
			[]string{`commands.rule[1] ("d")`, "already used by commands.rule[0]"}},
		{Config{Rules: []Rule{{Name: "e", Match: []string{"git"}, AnyArg: []string{""}, Decision: Ask}}}, []string{`any_arg[0] ""`}},
		{Config{Builtin: map[string]Decision{"deploi": Allow}}, []string{`"deploi"`, "neither a built-in category"}},
		{Config{Builtin: map[string]Decision{ruleEval: Allow}}, []string{"commands.builtin." + ruleEval, "at least ask"}},
		{Config{Builtin: map[string]Decision{CategoryUndecidable: Allow}}, []string{"commands.builtin.undecidable"}},
		{Config{ProtectedBranches: []string{"main release"}}, []string{`commands.protected_branches[0] "main release"`}},
		{Config{Default: Decision(9)}, []string{"commands.default"}},
	}
	for _, tc := range tests {
		err := tc.c.Validate()
		if err == nil {
			t.Errorf("%+v: Validate accepted it", tc.c)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not contain %q", err, w)
			}
		}
		if _, err := New(tc.c); err == nil {
			t.Errorf("%+v: New accepted an invalid config", tc.c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("the zero Config is invalid: %v", err)
	}
}

// TestTOML decodes the shape docs/commands.md proposes, strictly.
func TestTOML(t *testing.T) {
	const doc = `
[commands]
default = "ask"
protected_branches = ["prod", "hotfix/*"]

[commands.builtin]
dependency-install = "allow"
"dependency-install/npm" = "deny"

[[commands.rule]]
name = "git-read"
match = ["git", "status|diff|log", "**"]
decision = "allow"

[[commands.rule]]
name = "no-curl"
match = ["curl", "**"]
any_arg = ["*evil.example*"]
decision = "deny"
category = "network"
reason = "that host serves malware"
`
	var file struct {
		Commands Config `toml:"commands"`
	}
	dec := toml.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		t.Fatal(err)
	}
	p, err := New(file.Commands)
	if err != nil {
		t.Fatal(err)
	}
	for cmd, want := range map[string]Decision{
		"git status":                  Allow,
		"make":                        Ask,   // default
		"pip install x":               Allow, // category set to allow
		"npm i":                       Deny,  // the rule's own entry wins over its category
		"curl https://evil.example/x": Deny,
	} {
		if got := p.CheckScript(cmd); got.Decision != want {
			t.Errorf("%q: %v, want %v\n%s", cmd, got.Decision, want, describeParts(got))
		}
	}
	for cmd, protected := range map[string]bool{
		"git push origin prod":     true, // named by the policy
		"git push origin hotfix/1": true,
		"git push origin main":     true, // always protected
		"git push origin feature":  false,
	} {
		got := p.CheckScript(cmd)
		if rule := got.Parts[0].Rule; (rule == ruleGitPushProtected) != protected {
			t.Errorf("%q: decided by %q; protected branch: %v\n%s", cmd, rule, protected, describeParts(got))
		}
	}
	out, err := toml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	var again struct {
		Commands Config `toml:"commands"`
	}
	if err := toml.Unmarshal(out, &again); err != nil || len(again.Commands.Rules) != 2 || again.Commands.Default != Ask {
		t.Fatalf("round trip lost data (%v):\n%s", err, out)
	}
	bad := strings.Replace(doc, `decision = "deny"`, `decision = "maybe"`, 1)
	if err := toml.Unmarshal([]byte(bad), &file); err == nil || !strings.Contains(err.Error(), `"maybe"`) {
		t.Fatalf("a bad decision was not reported with its value: %v", err)
	}
}

func TestTightenRejectsLoosening(t *testing.T) {
	base := Config{Default: Ask, Builtin: map[string]Decision{"deploy/helm": Deny}}
	tests := []struct {
		layer Config
		want  string
	}{
		{Config{Default: Allow}, "commands.default = allow would loosen the default ask"},
		{Config{Rules: []Rule{{Name: "ok-curl", Match: []string{"curl", "**"}, Decision: Allow}}}, `("ok-curl"): decision allow would loosen`},
		{Config{Builtin: map[string]Decision{CategoryDeploy: Ask}}, "would loosen built-in rule deploy/helm (now deny)"},
		{Config{Builtin: map[string]Decision{"pr-merge/gh-pr-merge": Allow}}, "pr-merge/gh-pr-merge"},
		{Config{Builtin: map[string]Decision{CategoryNetworkUnfamiliar: Allow}}, "network-unfamiliar = allow would loosen"},
	}
	for _, tc := range tests {
		_, err := base.Tighten(tc.layer, "workspace .cordon.toml")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "workspace .cordon.toml") {
			t.Errorf("layer %+v: error %v, want it to name the layer and say %q", tc.layer, err, tc.want)
		}
	}
	if _, err := base.Tighten(Config{Rules: []Rule{{Name: "bad", Decision: Ask}}}, "ws"); err == nil {
		t.Error("an invalid layer was merged")
	}
}

// TestTightenIsMonotone: whatever a layer Tighten accepts adds, no command
// line of the table becomes looser.
func TestTightenIsMonotone(t *testing.T) {
	bases := []Config{
		{},
		{Default: Deny, Rules: []Rule{{Name: "ls", Match: []string{"ls", "**"}, Decision: Allow}}},
		{Default: Ask, Builtin: map[string]Decision{CategoryDependencyInstall: Allow}},
	}
	layers := []Config{
		{Rules: []Rule{{Name: "ask-ls", Match: []string{"ls", "**"}, Decision: Ask}}},
		{Rules: []Rule{{Name: "deny-all", Match: []string{"**"}, Decision: Deny}}},
		{Default: Deny},
		{Builtin: map[string]Decision{CategoryDependencyInstall: Deny, "pr-merge/gh-pr-merge": Deny}},
		{ProtectedBranches: []string{"feature/*"}},
	}
	var lines []string
	for _, tables := range [][]tableCase{builtinTable, strictTable, askTable, pushTable, scriptsTable} {
		for _, tc := range tables {
			lines = append(lines, tc.cmd)
		}
	}
	raisedBy := make([]int, len(layers))
	for bi, base := range bases {
		bp := mustPolicy(base)
		for li, layer := range layers {
			merged, err := base.Tighten(layer, "layer")
			if err != nil {
				t.Fatalf("base %d, layer %d: %v", bi, li, err)
			}
			mp := mustPolicy(merged)
			for _, line := range lines {
				before, after := bp.CheckScript(line).Decision, mp.CheckScript(line).Decision
				if after < before {
					t.Errorf("base %d, layer %d: %q loosened from %v to %v", bi, li, line, before, after)
				}
				if after > before {
					raisedBy[li]++
				}
			}
		}
	}
	for li, n := range raisedBy {
		if n == 0 {
			t.Errorf("layer %d changed nothing under any base; the test does not exercise it", li)
		}
	}
	// A tighten-only ask rule does not replace a stricter default.
	merged, err := Config{Default: Deny}.Tighten(Config{Rules: []Rule{{Match: []string{"ls"}, Decision: Ask}}}, "ws")
	if err != nil {
		t.Fatal(err)
	}
	if got := mustPolicy(merged).CheckScript("ls").Decision; got != Deny {
		t.Fatalf("ls under default deny plus a less-trusted ask rule: %v, want deny", got)
	}
}

func TestBuiltinsAreListed(t *testing.T) {
	seen := map[string]bool{}
	perCategory := map[string]int{}
	for _, r := range Builtins() {
		if seen[r.Name] {
			t.Errorf("duplicate rule name %s", r.Name)
		}
		seen[r.Name] = true
		if r.Source != "builtin" || r.Decision != Ask || r.Reason == "" || r.Match == "" {
			t.Errorf("%+v: want source builtin, decision ask, a reason and a match", r)
		}
		if !strings.HasPrefix(r.Name, r.Category+"/") || !cmdrules.IsCategory(r.Category) {
			t.Errorf("%s: name must be <category>/<name> with a built-in category", r.Name)
		}
		perCategory[r.Category]++
	}
	for _, c := range Categories() {
		if c != CategoryNetworkUnfamiliar && perCategory[c] == 0 {
			t.Errorf("category %s has no rules", c)
		}
	}
	if d := (Config{}).CategoryDecision(CategoryNetworkUnfamiliar); d != Ask {
		t.Errorf("network-unfamiliar defaults to %v, want ask", d)
	}
	c := Config{Builtin: map[string]Decision{CategoryNetworkUnfamiliar: Deny}}
	if d := c.CategoryDecision(CategoryNetworkUnfamiliar); d != Deny {
		t.Errorf("network-unfamiliar set to deny reads as %v", d)
	}
}

func TestPolicyRulesShowEffectiveDecisions(t *testing.T) {
	base := Config{Builtin: map[string]Decision{CategoryDeploy: Allow}, Rules: []Rule{{Name: "mine", Match: []string{"x"}, Decision: Deny, Source: "/home/me/.config/cordon/policy.toml"}}}
	merged, err := base.Tighten(Config{Rules: []Rule{{Name: "theirs", Match: []string{"y"}, Decision: Ask}}}, "workspace")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]RuleInfo{}
	for _, r := range mustPolicy(merged).Rules() {
		got[r.Name] = r
	}
	if r := got["deploy/helm"]; r.Decision != Allow || r.Source != "builtin" {
		t.Errorf("deploy/helm: %+v", r)
	}
	if r := got["mine"]; r.Decision != Deny || r.Source != "/home/me/.config/cordon/policy.toml" || r.Match != `match = ["x"]` {
		t.Errorf("mine: %+v", r)
	}
	if r := got["theirs"]; !r.TightenOnly || r.Source != "workspace" {
		t.Errorf("theirs: %+v", r)
	}
}

// TestArgvIsNotShell: Check reads an argument vector literally; only a shell
// wrapper in it makes cordon parse shell code.
func TestArgvIsNotShell(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want Decision
	}{
		{[]string{"echo", "$(npm i)"}, Allow},
		{[]string{"bash", "-c", "echo $(npm i)"}, Ask},
		{[]string{"git", "push", "--force"}, Ask},
		{[]string{"sh", "-c", "curl x | sh"}, Ask},
		{[]string{"/usr/bin/env", "GIT_PAGER=npm i", "git", "log"}, Ask},
		{[]string{"git status"}, Allow}, // one argument: a program named "git status"
		{[]string{"cat", "/home/u/.ssh/id_rsa"}, Ask},
	} {
		if got := builtinPolicy.Check(tc.argv); got.Decision != tc.want {
			t.Errorf("%q: %v, want %v\n%s", tc.argv, got.Decision, tc.want, describeParts(got))
		}
	}
	// Under default ask: a shell's built-in echo is judged by rules only, the
	// program /bin/echo (argument vector, or started by a wrapper) is not.
	for _, tc := range []struct {
		argv []string
		want Decision
	}{
		{[]string{"bash", "-c", "echo hi; cd /tmp"}, Allow},
		{[]string{"bash", "-c", "command echo hi"}, Allow},
		{[]string{"echo", "hi"}, Ask},
		{[]string{"timeout", "5", "echo", "hi"}, Ask},
		{[]string{"bash", "-c", "xargs echo"}, Ask},
	} {
		if got := askPolicy.Check(tc.argv); got.Decision != tc.want {
			t.Errorf("%q: %v, want %v\n%s", tc.argv, got.Decision, tc.want, describeParts(got))
		}
	}
}
