package mcpserver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/pipeline"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// The test binary is also the sandbox's init, as cordon's binary is.
func TestMain(m *testing.M) {
	sandbox.Init()
	os.Exit(m.Run())
}

// pipelineRun is the run pipeline with nobody to ask, as the servers of
// these tests run commands unless a test gives its own Run: a rule's deny
// and ask are both refused, and recorded.
func pipelineRun(ctx context.Context, req sandbox.Request) (*sandbox.Result, error) {
	return pipeline.Run(ctx, req, pipeline.Options{Source: "mcp"})
}

// withRules returns a copy of p whose command rules are c's (with the
// built-in ones, as always).
func withRules(p *policy.Policy, c cmdpolicy.Config) *policy.Policy {
	q := *p
	q.Commands = c
	return &q
}

// withRun completes opts with pipelineRun.
func withRun(opts Options) Options {
	if opts.Run == nil {
		opts.Run = pipelineRun
	}
	return opts
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

type fixture struct {
	home, ws, outside string
	session           *mcp.ClientSession
	srv               *Server
}

// connect starts a server over in-memory transports with opts completed
// by a fresh workspace.
func connect(t *testing.T, rules cmdpolicy.Config, opts Options) *fixture {
	t.Helper()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	f := &fixture{home: filepath.Join(root, "home"), outside: filepath.Join(root, "outside")}
	f.ws = filepath.Join(f.home, "proj")
	mkdirs(t, f.ws, f.outside, filepath.Join(f.ws, "sub"))
	if opts.Policy == nil {
		opts.Policy = testPolicy(t, f.ws, f.home, policy.Flags{})
	}
	opts.Policy = withRules(opts.Policy, rules)
	opts.Workspace, opts.Home = f.ws, f.home
	opts.Environ = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + f.home}
	srv, err := New(withRun(opts))
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	f.session = connectSDK(t, srv, nil, nil)
	return f
}

// connectSDK serves srv over OS pipes, as `cordon mcp` serves over its
// standard input and output, and connects the Go SDK's client to it: an
// implementation of MCP independent of the server's.
func connectSDK(t *testing.T, srv *Server, copts *mcp.ClientOptions, sopts *mcp.ClientSessionOptions) *mcp.ClientSession {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := srv.ServeStdio(context.Background(), inR, outW)
		outW.Close()
		done <- err
	}()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, copts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	session, err := client.Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		session.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ServeStdio: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("ServeStdio did not return after the client closed the session")
		}
	})
	return session
}

func (f *fixture) run(t *testing.T, args map[string]any) (RunOutput, *mcp.CallToolResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := f.session.CallTool(ctx, &mcp.CallToolParams{Name: "run_command", Arguments: args})
	if err != nil {
		t.Fatal(err)
	}
	var out RunOutput
	if !res.IsError {
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
	}
	return out, res
}

func TestDeniedCommandIsNotRun(t *testing.T) {
	f := connect(t, cmdpolicy.Config{Rules: []cmdpolicy.Rule{
		{Name: "no-rm-rf", Match: []string{"rm", "-rf", "**"}, Decision: cmdpolicy.Deny, Reason: "recursive deletes are not allowed here"},
	}}, Options{})
	marker := filepath.Join(f.ws, "ran")
	out, res := f.run(t, map[string]any{"command": "touch ran; rm -rf sub"})
	if res.IsError || out.Ran || out.Decision != "deny" || len(out.Refusals) != 1 {
		t.Fatalf("%+v %v", out, res)
	}
	r := out.Refusals[0]
	if r.Kind != RefusalCommandRule || r.Rule != "no-rm-rf" || r.Subject != "rm -rf sub" ||
		!strings.Contains(r.Message, "recursive deletes are not allowed here") || !strings.Contains(r.Message, "ask the user") {
		t.Errorf("refusal: %+v", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("a denied command line ran in part")
	}
	if _, err := os.Stat(filepath.Join(f.ws, "sub")); err != nil {
		t.Errorf("sub was deleted")
	}
	// The control: allowed, it runs.
	f.run(t, map[string]any{"command": "touch ran"})
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the control did not run")
	}
}

// TestRefusedByRun: what Options.Run refuses (a human said no, or no one
// could be asked) becomes the matching refusal, and the command does not
// run; what it lets through runs.
func TestRefusedByRun(t *testing.T) {
	refuse := func(e *RefusedError) func(context.Context, sandbox.Request) (*sandbox.Result, error) {
		return func(context.Context, sandbox.Request) (*sandbox.Result, error) { return nil, e }
	}
	cmd := "touch asked-ran; git push --force origin main 2>/dev/null; true"
	for _, c := range []struct {
		name string
		run  func(context.Context, sandbox.Request) (*sandbox.Result, error)
		ran  bool
		kind string
	}{
		{"no runner", nil, false, RefusalApprovalRequired},
		{"refused", refuse(&RefusedError{Reason: "not today, see /secret/place"}), false, RefusalApprovalDenied},
		{"no one to ask", refuse(&RefusedError{NoApprover: true, Reason: "no approval channel"}), false, RefusalApprovalRequired},
		{"approved", sandbox.Run, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := connect(t, cmdpolicy.Config{}, Options{Run: c.run})
			out, res := f.run(t, map[string]any{"command": cmd})
			if res.IsError || out.Ran != c.ran || out.Decision != "ask" {
				t.Fatalf("%+v", out)
			}
			_, err := os.Stat(filepath.Join(f.ws, "asked-ran"))
			if (err == nil) != c.ran {
				t.Errorf("ran on the host = %v, want %v", err == nil, c.ran)
			}
			if c.kind == "" {
				if len(out.Refusals) != 0 {
					t.Errorf("refusals: %+v", out.Refusals)
				}
				return
			}
			if len(out.Refusals) != 1 || out.Refusals[0].Kind != c.kind || out.Refusals[0].Rule != "pr-merge/git-push-force" {
				t.Fatalf("refusals: %+v", out.Refusals)
			}
			msg := out.Refusals[0].Message
			if strings.Contains(msg, "/secret/place") {
				t.Errorf("a host path reached the agent: %s", msg)
			}
			if c.name == "refused" && !strings.Contains(msg, "not today") {
				t.Errorf("the human's reason is missing: %s", msg)
			}
		})
	}
}

func TestResolveDir(t *testing.T) {
	f := connect(t, cmdpolicy.Config{}, Options{})
	os.Symlink(filepath.Join(f.ws, "sub"), filepath.Join(f.ws, "link-in"))
	os.Symlink(f.outside, filepath.Join(f.ws, "link-out"))
	os.Symlink("/nonexistent-"+filepath.Base(f.home), filepath.Join(f.ws, "link-dangling"))
	os.WriteFile(filepath.Join(f.ws, "file"), nil, 0o644)
	for cwd, want := range map[string]string{
		"":                          f.ws,
		".":                         f.ws,
		"sub":                       filepath.Join(f.ws, "sub"),
		"./sub/":                    filepath.Join(f.ws, "sub"),
		"link-in":                   filepath.Join(f.ws, "sub"),
		filepath.Join(f.ws, "sub"):  filepath.Join(f.ws, "sub"),
		"sub/..":                    f.ws,
		"link-out":                  "",
		"link-dangling":             "",
		"..":                        "",
		"/":                         "",
		f.outside:                   "",
		filepath.Join(f.home, "x"):  "",
		"file":                      "",
		"missing":                   "",
		f.ws + "-sibling":           "",
		"sub/../../proj-other/../x": "",
	} {
		got, err := f.srv.resolveDir(cwd)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("resolveDir(%q) = %q, %v; want %q", cwd, got, err, want)
		}
		if err != nil && strings.Contains(err.Error(), f.outside) && cwd != f.outside {
			t.Errorf("resolveDir(%q): the error names where it resolved: %v", cwd, err)
		}
	}
	// Outside and missing get the same answer.
	_, e1 := f.srv.resolveDir("link-out")
	_, e2 := f.srv.resolveDir("link-dangling")
	if strings.Replace(e1.Error(), "link-out", "X", 1) != strings.Replace(e2.Error(), "link-dangling", "X", 1) {
		t.Errorf("different errors tell outside from missing:\n%v\n%v", e1, e2)
	}
}

func TestTimeoutFor(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	ws := filepath.Join(root, "home", "ws")
	mkdirs(t, ws)
	limit := 30 * time.Second
	p := testPolicy(t, ws, filepath.Join(root, "home"), policy.Flags{Timeout: &limit})
	s, err := New(withRun(Options{Policy: withRules(p, cmdpolicy.Config{}), Workspace: ws}))
	if err != nil {
		t.Fatal(err)
	}
	if s.opts.DefaultTimeout != limit {
		t.Errorf("default %v: not capped by the policy's %v", s.opts.DefaultTimeout, limit)
	}
	for secs, want := range map[float64]time.Duration{0: limit, 1: time.Second, 0.5: 500 * time.Millisecond, 30: limit, 3600: limit, 1e300: limit} {
		got, _, err := s.timeoutFor(secs)
		if err != nil || got != want {
			t.Errorf("timeoutFor(%v) = %v, %v; want %v", secs, got, err, want)
		}
	}
	if _, note, _ := s.timeoutFor(3600); !strings.Contains(note, "policy") {
		t.Errorf("no note when the policy's timeout applies")
	}
	for _, bad := range []float64{-1} {
		if _, _, err := s.timeoutFor(bad); err == nil {
			t.Errorf("timeoutFor(%v) accepted", bad)
		}
	}
}

func TestInputValidation(t *testing.T) {
	f := connect(t, cmdpolicy.Config{}, Options{})
	for _, args := range []map[string]any{
		{},
		{"command": "true", "argv": []string{"true"}},
		{"argv": []string{""}},
		{"command": "echo a\x00b"},
		{"command": "true", "timeout_seconds": -5},
		{"command": "true", "mode": "full-access"},
		{"command": 42},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := f.session.CallTool(ctx, &mcp.CallToolParams{Name: "run_command", Arguments: args})
		cancel()
		if err == nil && !res.IsError {
			t.Errorf("accepted %v", args)
		}
	}
}
