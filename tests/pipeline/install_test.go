//go:build linux

package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/pipeline"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// TestApprovedInstallBringsItsRegistry (issue 12.2): a dependency install
// the rules ask about says, in the question, that approving it lets this
// one command reach its registry; once approved, the run's proxy allows
// the registry by that grant, and only for that run. An `npm` on PATH
// that fetches from the npm registry stands for the real one. Judged by
// the proxy's record of the connection: which rule let it through, or
// that none did. A program the rules do not ask about, fetching the same
// URL, gets no such grant, so the check can tell the two apart.
func TestApprovedInstallBringsItsRegistry(t *testing.T) {
	e := newEnv(t)
	// A proxy that lets nothing through by itself, so that the control
	// below reaches it and is refused there.
	f, err := os.OpenFile(filepath.Join(e.config, "cordon", "policy.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[network]\nmode = \"proxy\"\nallow = [\"example.com\"]\n")
	f.Close()
	bin := filepath.Join(e.home, "bin")
	os.MkdirAll(bin, 0o755)
	fetch := "#!/bin/sh\ncurl -s -o /dev/null --max-time 10 https://registry.npmjs.org/is-number; echo fetched\n"
	for _, name := range []string{"npm", "fetcher"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(fetch), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(o pipeline.Options, argv ...string) []map[string]any {
		t.Helper()
		t.Setenv("HOME", e.home)
		t.Setenv("XDG_CONFIG_HOME", e.config)
		t.Setenv("XDG_STATE_HOME", e.state("api"))
		p, err := policy.Load(policy.Options{Workspace: e.ws, Home: e.home})
		if err != nil {
			t.Fatal(err)
		}
		res, err := pipeline.Run(context.Background(), sandbox.Request{Policy: p, Workspace: e.ws, Dir: e.ws, Home: e.home,
			Argv: argv, Environ: []string{"HOME=" + e.home, "PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin"}}, o)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%v: %v, %+v", argv, err, res)
		}
		return e.events("api")
	}
	registry := func(evs []map[string]any) map[string]any {
		for _, ev := range evs {
			if ev["kind"] == "network_connection" && ev["host"] == "registry.npmjs.org" {
				return ev
			}
		}
		return nil
	}

	yes := &approver{decision: pipeline.Allow}
	evs := run(pipeline.Options{Approver: yes}, "npm", "install", "is-number")
	if len(yes.asked) != 1 || !strings.Contains(strings.Join(yes.asked[0].Network, " "), "registry.npmjs.org") ||
		!strings.Contains(yes.asked[0].Reason, "also lets this one command reach registry.npmjs.org") {
		t.Fatalf("the question does not offer the registry: %+v", yes.asked)
	}
	grant := false
	for _, ev := range evs {
		if ev["kind"] == "decision" && ev["subject"] == "network" && ev["decider"] == "approval" {
			grant = true
		}
	}
	if !grant {
		t.Errorf("no audit event records the registry that came with the approval")
	}
	c := registry(evs)
	if c == nil || !strings.Contains(c["rule"].(string), "registry.npmjs.org") {
		t.Errorf("the approved install's fetch was not let through by the grant: %v", c)
	}

	// The same fetch from a program nobody was asked about: no grant.
	evs = run(pipeline.Options{Approver: yes}, "fetcher")
	if len(yes.asked) != 1 {
		t.Errorf("a program the rules allow was asked about: %+v", yes.asked[1:])
	}
	if c := registry(evs); c == nil || c["decision"] != "deny" || strings.Contains(c["rule"].(string), "registry.npmjs.org") {
		t.Errorf("without an approved install, the registry was reachable or the fetch never tried: %v", c)
	}
}
