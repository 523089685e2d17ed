package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/report"
	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
	"github.com/cordon-sandbox/cordon/policy"
)

// The test binary is also the sandbox's init, as cordon's binary is.
func TestMain(m *testing.M) {
	Init()
	os.Exit(m.Run())
}

// noUserNS is a host where user namespaces are unavailable, as Ubuntu's
// AppArmor restriction leaves it; the probe's other facts are this host's.
func noUserNS() hostFacts {
	h := probeHost()
	h.userNS = "user namespaces are unavailable (a host made up by the test)"
	return h
}

func request(t *testing.T, mode policy.Mode, accept ...string) (Request, string) {
	t.Helper()
	root, err := os.MkdirTemp(testbin.Base, "cordon-explain-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	root, _ = filepath.EvalSymlinks(root)
	home, ws := filepath.Join(root, "home"), filepath.Join(root, "ws")
	os.MkdirAll(home, 0o755)
	os.MkdirAll(ws, 0o755)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(home, ".local", "state"))
	p, err := policy.Load(policy.Options{Workspace: ws, Home: home, NoUserFile: true,
		Flags: policy.Flags{Mode: mode, AllowDegraded: accept}})
	if err != nil {
		t.Fatal(err)
	}
	null, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	t.Cleanup(func() { null.Close() })
	return Request{Policy: p, Workspace: ws, Dir: ws, Home: home, Argv: []string{"sh", "-c", "echo ran > ran"},
		Environ: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}, Stdin: null, Stdout: null, Stderr: null}, filepath.Join(ws, "ran")
}

// layers are a report's layers by name and status: what was enforced, not
// the details that name a run's own temp dir or cgroup.
func layers(r *report.Report) []string {
	var out []string
	for _, l := range r.Layers {
		out = append(out, l.Name+" "+string(l.Status))
	}
	return out
}

// TestExplainRefusesWhatRunRefuses: without user namespaces and without
// the weaker mode accepted, a run is refused before anything starts, and
// Explain gives the same refusal instead of a plan.
func TestExplainRefusesWhatRunRefuses(t *testing.T) {
	h := noUserNS()
	req, ran := request(t, policy.ModeWorkspaceWrite)
	res, runErr := runOn(context.Background(), req, "", h)
	if res != nil || runErr == nil {
		t.Fatalf("run: %+v, %v; want a refusal", res, runErr)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Fatal("the command ran")
	}
	plan, explainErr := explainOn(req, h)
	if plan != nil {
		t.Fatalf("explain showed a plan run refuses: %s", plan.Report)
	}
	var re, ee *LayerError
	if !errors.As(runErr, &re) || !errors.As(explainErr, &ee) {
		t.Fatalf("run: %v; explain: %v; want *LayerError from both", runErr, explainErr)
	}
	if re.Layer != "namespaces" || re.Error() != ee.Error() || re.Hint() != ee.Hint() {
		t.Errorf("run refused with %q (%s), explain with %q (%s)", re, re.Hint(), ee, ee.Hint())
	}
}

// TestExplainShowsTheModeRunUses: with the weaker mode accepted, run and
// Explain both use it; in full-access mode neither does (there are no
// namespaces to miss); on this host, both use the full boundary. Each
// time Explain's report has the layers, with their status, that the run's
// has.
func TestExplainShowsTheModeRunUses(t *testing.T) {
	for _, c := range []struct {
		name     string
		h        hostFacts
		mode     policy.Mode
		accept   []string
		degraded string
	}{
		{"no user namespaces, landlock accepted", noUserNS(), policy.ModeWorkspaceWrite, []string{"landlock"}, "landlock"},
		{"no user namespaces, full access", noUserNS(), policy.ModeFullAccess, []string{"landlock"}, ""},
		{"this host", probeHost(), policy.ModeWorkspaceWrite, []string{"landlock"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "this host" && c.h.userNS != "" {
				t.Skipf("this host has no user namespaces: %s", c.h.userNS)
			}
			req, ran := request(t, c.mode, c.accept...)
			plan, err := explainOn(req, c.h)
			if err != nil {
				t.Fatalf("explain: %v", err)
			}
			res, err := runOn(context.Background(), req, "", c.h)
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("run: %+v, %v", res, err)
			}
			if _, err := os.Stat(ran); err != nil {
				t.Fatalf("the command did not run: %v", err)
			}
			if plan.Report.Degraded != c.degraded || res.Report.Degraded != c.degraded {
				t.Errorf("weaker mode: explain %q, run %q, want %q", plan.Report.Degraded, res.Report.Degraded, c.degraded)
			}
			if got, want := layers(plan.Report), layers(res.Report); !reflect.DeepEqual(got, want) {
				t.Errorf("explain's layers differ from the run's:\nexplain %v\nrun     %v", got, want)
			}
		})
	}
}
