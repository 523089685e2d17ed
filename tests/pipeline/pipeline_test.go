//go:build linux

// Package pipeline checks that the Go API's entry to cordon's run pipeline
// (pipeline.Run) judges a command as `cordon run` does: the same commands
// are refused, allowed and asked about, and the audit trail records the
// same events with the same fields, apart from what differs between any
// two runs (times, ids, durations, process ids) and the source. The test
// binary is its own sandbox init, as a Go program using the API must be.
// Outcomes are judged from the host: a file the command would create.
package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
	"github.com/cordon-sandbox/cordon/pipeline"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

var cordonBin string

func TestMain(m *testing.M) {
	sandbox.Init()
	testbin.Main(m, map[string]*string{"cordon": &cordonBin}, map[string]string{"cordon": testbin.Cordon})
}

const rules = `version = 1

[[commands.rule]]
name = "ask-touch"
match = ["touch", "**"]
decision = "ask"
category = "test"
reason = "touching needs a human"

[[commands.rule]]
name = "no-rm"
match = ["rm", "**"]
decision = "deny"
reason = "no deleting here"
`

// env is a home with the policy above, a workspace in it, and a state
// directory of its own for each way in, so that each audit trail holds one
// front end's events.
type env struct {
	t        *testing.T
	home, ws string
	config   string
}

func newEnv(t *testing.T) *env {
	root, err := os.MkdirTemp(testbin.Base, "cordon-pipeline-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	root, _ = filepath.EvalSymlinks(root)
	e := &env{t: t, home: filepath.Join(root, "home")}
	e.ws = filepath.Join(e.home, "ws")
	e.config = filepath.Join(e.home, ".config")
	if err := os.MkdirAll(filepath.Join(e.config, "cordon"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(e.ws, 0o755)
	if err := os.WriteFile(filepath.Join(e.config, "cordon", "policy.toml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) state(name string) string { return filepath.Join(e.home, "state-"+name) }

// cli runs cordon run with no approval channel: no terminal (a new
// session), no inbox, no approver program.
func (e *env) cli(argv ...string) (string, int, []map[string]any) {
	cmd := exec.Command(cordonBin, append([]string{"run", "--"}, argv...)...)
	cmd.Dir = e.ws
	cmd.Env = []string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin",
		"XDG_CONFIG_HOME=" + e.config, "XDG_STATE_HOME=" + e.state("cli")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return string(out), code, e.events("cli")
}

// api runs argv through pipeline.Run, as a Go program would.
func (e *env) api(o pipeline.Options, argv ...string) (*sandbox.Result, []map[string]any, error) {
	e.t.Setenv("HOME", e.home)
	e.t.Setenv("XDG_CONFIG_HOME", e.config)
	e.t.Setenv("XDG_STATE_HOME", e.state("api"))
	p, err := policy.Load(policy.Options{Workspace: e.ws, Home: e.home})
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := pipeline.Run(context.Background(), sandbox.Request{Policy: p, Workspace: e.ws, Dir: e.ws, Home: e.home,
		Argv: argv, Environ: []string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin"}}, o)
	return res, e.events("api"), err
}

// events reads one front end's audit trail and leaves it empty for the
// next run.
func (e *env) events(name string) []map[string]any {
	path := filepath.Join(e.state(name), "cordon", "audit.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatalf("%s: no audit trail: %v", name, err)
	}
	os.RemoveAll(filepath.Join(e.state(name), "cordon"))
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			e.t.Fatalf("%s: %v: %s", name, err, sc.Bytes())
		}
		out = append(out, ev)
	}
	return out
}

var cgroupName = regexp.MustCompile(`/cordon/[0-9a-f]+\.[0-9.]+`)

// comparable drops what differs between any two runs of the same command,
// and returns the sources the command_requested events named.
func comparable(evs []map[string]any) ([]map[string]any, []any) {
	var sources []any
	for _, ev := range evs {
		if ev["kind"] == "command_requested" {
			sources = append(sources, ev["source"])
		}
		// A run's cgroup is its own: the report names it.
		if layers, ok := ev["layers"].([]any); ok && ev["kind"] == "enforcement" {
			for _, l := range layers {
				if m, ok := l.(map[string]any); ok {
					if d, ok := m["detail"].(string); ok {
						m["detail"] = cgroupName.ReplaceAllString(d, "/cordon/RUN")
					}
				}
			}
		}
		for k := range ev {
			switch {
			case k == "v", k == "time", k == "session", k == "run", k == "seq", k == "prev", k == "hash", k == "source",
				k == "pid", k == "peak_memory_bytes", strings.HasSuffix(k, "_ms"):
				delete(ev, k)
			}
		}
	}
	return evs, sources
}

func kinds(evs []map[string]any) []any {
	var out []any
	for _, ev := range evs {
		out = append(out, ev["kind"])
	}
	return out
}

// same fails the test unless both front ends recorded the same events.
func same(t *testing.T, cliEvents, apiEvents []map[string]any) {
	t.Helper()
	c, cs := comparable(cliEvents)
	a, as := comparable(apiEvents)
	if !reflect.DeepEqual(cs, []any{"cli"}) || !reflect.DeepEqual(as, []any{"api"}) {
		t.Errorf("sources: cli %v, api %v", cs, as)
	}
	if !reflect.DeepEqual(c, a) {
		cj, _ := json.MarshalIndent(c, "", " ")
		aj, _ := json.MarshalIndent(a, "", " ")
		t.Errorf("the audit trails differ:\ncordon run: %s\npipeline.Run: %s", cj, aj)
	}
}

func find(evs []map[string]any, kind string) map[string]any {
	for _, ev := range evs {
		if ev["kind"] == kind {
			return ev
		}
	}
	return nil
}

// TestDeniedCommand: a command the rules deny does not run, whichever way
// it came in, and both trails record the same decision and refusal.
func TestDeniedCommand(t *testing.T) {
	e := newEnv(t)
	keep := filepath.Join(e.ws, "keep")
	os.WriteFile(keep, []byte("x"), 0o644)

	out, code, cliEvents := e.cli("rm", "-f", "keep")
	if code != pipeline.ExitDenied || !strings.Contains(out, "no deleting here") {
		t.Errorf("cordon run: exit %d, %q", code, out)
	}
	res, apiEvents, err := e.api(pipeline.Options{}, "rm", "-f", "keep")
	var denied *pipeline.DeniedError
	if !errors.As(err, &denied) || res != nil || denied.Rule != "no-rm" || denied.NoApprover {
		t.Fatalf("pipeline.Run: %v, %+v", res, err)
	}
	if !strings.Contains(out, denied.Error()) || !strings.Contains(out, denied.Hint()) {
		t.Errorf("cordon run said %q; pipeline.Run %q (hint %q)", out, denied.Error(), denied.Hint())
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("a denied command ran: %v", err)
	}
	want := []any{"policy_loaded", "command_requested", "decision", "run_end"}
	if got := kinds(apiEvents); !reflect.DeepEqual(got, want) {
		t.Errorf("pipeline.Run recorded %v, want %v", got, want)
	}
	if d := find(apiEvents, "decision"); d == nil || d["decision"] != "deny" || d["rule"] != "no-rm" {
		t.Errorf("decision: %v", d)
	}
	if r := find(apiEvents, "run_end"); r == nil || r["outcome"] != "denied" || r["exit_code"] != float64(pipeline.ExitDenied) {
		t.Errorf("run_end: %v", r)
	}
	same(t, cliEvents, apiEvents)
}

// TestAskWithoutApprover: a command the rules ask about is refused when
// nobody can be asked: cordon run without a channel, pipeline.Run without
// an Approver.
func TestAskWithoutApprover(t *testing.T) {
	e := newEnv(t)
	made := filepath.Join(e.ws, "made")

	out, code, cliEvents := e.cli("touch", "made")
	if code != pipeline.ExitDenied || !strings.Contains(out, "no approval channel is available") {
		t.Errorf("cordon run: exit %d, %q", code, out)
	}
	res, apiEvents, err := e.api(pipeline.Options{}, "touch", "made")
	var denied *pipeline.DeniedError
	if !errors.As(err, &denied) || res != nil || !denied.NoApprover || denied.Rule != "ask-touch" {
		t.Fatalf("pipeline.Run: %v, %+v", res, err)
	}
	if _, err := os.Stat(made); err == nil {
		t.Fatal("a command nobody approved ran")
	}
	want := []any{"policy_loaded", "command_requested", "decision", "approval", "run_end"}
	if got := kinds(apiEvents); !reflect.DeepEqual(got, want) {
		t.Errorf("pipeline.Run recorded %v, want %v", got, want)
	}
	if a := find(apiEvents, "approval"); a == nil || a["decision"] != "deny" {
		t.Errorf("approval: %v", a)
	}
	// The CLI's chain knew of more channels it could not reach (the
	// terminal, the inbox), so its refusal says more; what was decided,
	// and recorded, is the same.
	for _, evs := range [][]map[string]any{cliEvents, apiEvents} {
		if r := find(evs, "run_end"); r != nil {
			delete(r, "error")
		}
	}
	same(t, cliEvents, apiEvents)
}

// approver answers every question with its decision and remembers them.
type approver struct {
	decision string
	asked    []pipeline.Question
}

func (a *approver) Ask(_ context.Context, q pipeline.Question) (pipeline.Answer, error) {
	a.asked = append(a.asked, q)
	return pipeline.Answer{Decision: a.decision, Scope: pipeline.ScopeOnce, Channel: "test", Approver: "the test"}, nil
}

// TestAskWithApprover: the program's own approver is asked, and its
// answer decides and is recorded.
func TestAskWithApprover(t *testing.T) {
	e := newEnv(t)
	made := filepath.Join(e.ws, "made")

	no := &approver{decision: pipeline.Deny}
	_, evs, err := e.api(pipeline.Options{Approver: no}, "touch", "made")
	var denied *pipeline.DeniedError
	if !errors.As(err, &denied) || denied.NoApprover || len(no.asked) != 1 || no.asked[0].Rule != "ask-touch" {
		t.Fatalf("refused by the approver: %v, asked %+v", err, no.asked)
	}
	if _, err := os.Stat(made); err == nil {
		t.Fatal("a command the approver refused ran")
	}
	if a := find(evs, "approval"); a == nil || a["decision"] != "deny" || a["approver"] != "the test" {
		t.Errorf("approval: %v", a)
	}

	yes := &approver{decision: pipeline.Allow}
	res, evs, err := e.api(pipeline.Options{Approver: yes}, "touch", "made")
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("approved: %v, %+v", err, res)
	}
	if _, err := os.Stat(made); err != nil {
		t.Fatalf("the approved command did not run: %v", err)
	}
	if a := find(evs, "approval"); a == nil || a["decision"] != "allow" || a["approver"] != "the test" {
		t.Errorf("approval: %v", a)
	}
	if r := find(evs, "run_end"); r == nil || r["outcome"] != "completed" {
		t.Errorf("run_end: %v", r)
	}
}

// TestAllowedCommand: an allowed command runs inside the sandbox either
// way, and the trails agree event by event (the boundary included).
func TestAllowedCommand(t *testing.T) {
	e := newEnv(t)
	out, code, cliEvents := e.cli("sh", "-c", "echo hi > cli-made")
	if code != 0 {
		t.Fatalf("cordon run: exit %d: %s", code, out)
	}
	res, apiEvents, err := e.api(pipeline.Options{}, "sh", "-c", "echo hi > api-made")
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("pipeline.Run: %v, %+v", err, res)
	}
	for _, f := range []string{"cli-made", "api-made"} {
		if _, err := os.Stat(filepath.Join(e.ws, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// The commands differ by their file's name only.
	for _, evs := range [][]map[string]any{cliEvents, apiEvents} {
		for _, ev := range evs {
			for _, k := range []string{"argv", "target"} {
				b, _ := json.Marshal(ev[k])
				var v any
				json.Unmarshal(bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("cli-made"), []byte("X")), []byte("api-made"), []byte("X")), &v)
				if ev[k] != nil {
					ev[k] = v
				}
			}
		}
	}
	same(t, cliEvents, apiEvents)
}
