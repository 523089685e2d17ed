package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/pelletier/go-toml/v2"
)

// server is one `cordon mcp` process and the client session talking to it
// over its stdin and stdout.
type server struct {
	t       *testing.T
	cmd     *exec.Cmd
	session *mcp.ClientSession
	log     *syncBuffer

	mu       sync.Mutex
	progress []*mcp.ProgressNotificationParams
	progCh   chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startMCP starts cordon's MCP server from the mcp.json snippet of
// docs/agents.md (command and args, FLAGS appended), the way an agent's
// MCP client does, and connects to it over the server's stdin and stdout.
func startMCP(t *testing.T, e *env, extraEnv []string, flags ...string) *server {
	t.Helper()
	var cfg struct {
		MCPServers map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		} `json:"mcpServers"`
	}
	if err := json.Unmarshal([]byte(e.snippet(t, "mcp.json")), &cfg); err != nil {
		t.Fatal(err)
	}
	entry := cfg.MCPServers["cordon"]
	return startMCPCommand(t, e, extraEnv, entry.Command, append(entry.Args, flags...))
}

func startMCPCommand(t *testing.T, e *env, extraEnv []string, command string, args []string) *server {
	t.Helper()
	cmd := detach(exec.Command(command, args...))
	cmd.Dir = e.ws
	cmd.Env = e.environ(extraEnv...)
	s := &server{t: t, cmd: cmd, log: &syncBuffer{}, progCh: make(chan struct{}, 100)}
	cmd.Stderr = s.log
	client := mcp.NewClient(&mcp.Implementation{Name: "cordon-agents-test", Version: "v0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			s.mu.Lock()
			s.progress = append(s.progress, req.Params)
			s.mu.Unlock()
			select {
			case s.progCh <- struct{}{}:
			default:
			}
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect to cordon mcp: %v\nserver log:\n%s", err, s.log)
	}
	s.session = session
	t.Cleanup(func() {
		session.Close()
		if t.Failed() {
			t.Logf("cordon mcp log:\n%s", s.log)
		}
	})
	return s
}

// call runs a tool and decodes its structured result into out. It returns
// the raw result so that errors can be inspected.
func (s *server) call(ctx context.Context, tool string, args any, out any) (*mcp.CallToolResult, error) {
	res, err := s.session.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return nil, err
	}
	if out != nil && !res.IsError {
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			return res, err
		}
		if err := json.Unmarshal(b, out); err != nil {
			return res, fmt.Errorf("decode %s result: %w (%s)", tool, err, b)
		}
	}
	return res, nil
}

// runOutput mirrors run_command's output schema.
type runOutput struct {
	Ran        bool   `json:"ran"`
	ExitCode   int    `json:"exit_code"`
	Signal     int    `json:"signal"`
	TimedOut   bool   `json:"timed_out"`
	DurationMS int64  `json:"duration_ms"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	StdoutCut  int64  `json:"stdout_cut_bytes"`
	Decision   string `json:"decision"`
	Refusals   []struct {
		Kind    string `json:"kind"`
		Subject string `json:"subject"`
		Rule    string `json:"rule"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"refusals"`
	Notes []string `json:"notes"`
}

func (s *server) run(args map[string]any) runOutput {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out runOutput
	res, err := s.call(ctx, "run_command", args, &out)
	if err != nil {
		s.t.Fatalf("run_command %v: %v", args, err)
	}
	if res.IsError {
		s.t.Fatalf("run_command %v: tool error: %s", args, textOf(res))
	}
	return out
}

func textOf(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func TestMCPInitializeAndListTools(t *testing.T) {
	e := newEnv(t)
	s := startMCP(t, e, nil)
	init := s.session.InitializeResult()
	if init == nil || init.ServerInfo == nil || init.ServerInfo.Name != "cordon" {
		t.Fatalf("initialize result: %+v", init)
	}
	if init.Capabilities == nil || init.Capabilities.Tools == nil {
		t.Fatalf("server does not advertise tools: %+v", init.Capabilities)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := s.session.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*mcp.Tool{}
	for _, tool := range list.Tools {
		got[tool.Name] = tool
	}
	for _, name := range []string{"run_command", "check_command", "sandbox_info"} {
		tool, ok := got[name]
		if !ok {
			t.Fatalf("tools/list lacks %s: %v", name, list.Tools)
		}
		if tool.Description == "" || tool.InputSchema == nil || tool.OutputSchema == nil {
			t.Errorf("%s: description, input schema and output schema are all required: %+v", name, tool)
		}
		in, _ := json.Marshal(tool.InputSchema)
		var schema struct {
			AdditionalProperties any            `json:"additionalProperties"`
			Properties           map[string]any `json:"properties"`
		}
		json.Unmarshal(in, &schema)
		if schema.AdditionalProperties != false {
			t.Errorf("%s: input schema must reject unknown fields (additionalProperties false): %s", name, in)
		}
		for prop := range schema.Properties {
			switch prop {
			case "policy", "mode", "workspace", "writable", "writable_roots", "sandbox", "unsandboxed":
				t.Errorf("%s: input field %q would let the agent change the boundary", name, prop)
			}
		}
	}
	if len(got) != 3 {
		t.Errorf("tools: want exactly run_command, check_command and sandbox_info, got %d", len(got))
	}
}

func TestMCPRunCommand(t *testing.T) {
	e := newEnv(t)
	s := startMCP(t, e, nil)

	out := s.run(map[string]any{"command": `echo "hello $1"; echo oops >&2; pwd; exit 3`, "cwd": "sub"})
	if !out.Ran || out.ExitCode != 3 || out.Decision != "allow" {
		t.Fatalf("result: %+v", out)
	}
	if want := "hello \n" + filepath.Join(e.ws, "sub") + "\n"; out.Stdout != want {
		t.Errorf("stdout = %q, want %q", out.Stdout, want)
	}
	if out.Stderr != "oops\n" {
		t.Errorf("stderr = %q", out.Stderr)
	}
	if len(out.Refusals) != 0 {
		t.Errorf("refusals: %+v", out.Refusals)
	}

	out = s.run(map[string]any{"argv": []string{"printf", "%s|", "a b", "it's", `$HOME`, ""}})
	if out.ExitCode != 0 || out.Stdout != `a b|it's|$HOME||` {
		t.Errorf("argv: %+v", out)
	}

	out = s.run(map[string]any{"command": "tr a-z A-Z", "stdin": "piped in\n"})
	if out.Stdout != "PIPED IN\n" {
		t.Errorf("stdin: %+v", out)
	}

	// A write inside the workspace lands on the host: the control for the
	// write-outside test.
	out = s.run(map[string]any{"command": "echo made > created.txt"})
	if b, err := os.ReadFile(filepath.Join(e.ws, "created.txt")); err != nil || string(b) != "made\n" {
		t.Errorf("write inside the workspace: %v %q (%+v)", err, b, out)
	}

	out = s.run(map[string]any{"command": "no-such-program-" + e.token})
	if !out.Ran || out.ExitCode != 127 {
		t.Errorf("missing program: %+v", out)
	}
}

func TestMCPOutputIsCappedWithAMarker(t *testing.T) {
	e := newEnv(t)
	s := startMCP(t, e, nil, "--max-output", "1000")
	out := s.run(map[string]any{"command": "echo first; head -c 50000 /dev/zero | tr '\\0' x; echo; echo last"})
	if out.StdoutCut == 0 || len(out.Stdout) > 1200 {
		t.Fatalf("stdout not capped: cut %d, len %d", out.StdoutCut, len(out.Stdout))
	}
	if !strings.HasPrefix(out.Stdout, "first\n") || !strings.HasSuffix(out.Stdout, "last\n") {
		t.Errorf("the head and the tail should both be kept: %q", out.Stdout)
	}
	marker := fmt.Sprintf("[cordon: %d bytes of stdout cut here", out.StdoutCut)
	if !strings.Contains(out.Stdout, marker) {
		t.Errorf("no marker %q in %q", marker, out.Stdout)
	}
	total := int64(len("first\n") + 50000 + 1 + len("last\n"))
	kept := int64(len(out.Stdout)) - int64(len(out.Stdout[strings.Index(out.Stdout, "\n[cordon:"):strings.Index(out.Stdout, "]\n")+2]))
	if kept+out.StdoutCut != total {
		t.Errorf("kept %d + cut %d != written %d", kept, out.StdoutCut, total)
	}
}

// TestMCPWriteOutsideWorkspace: a command asked to write outside the
// workspace, in several ways, changes nothing there; the same probe with
// the sandbox off (full-access) does, which shows the probe would see it.
func TestMCPWriteOutsideWorkspace(t *testing.T) {
	for _, sandboxed := range []bool{true, false} {
		t.Run(fmt.Sprintf("sandboxed=%v", sandboxed), func(t *testing.T) {
			e := newEnv(t)
			rc := filepath.Join(e.home, ".bashrc")
			writeFile(t, rc, "# rc\n", 0o644)
			var flags []string
			if !sandboxed {
				flags = []string{"--mode", "full-access"}
			}
			s := startMCP(t, e, nil, flags...)
			targets := []string{
				filepath.Join(e.outside, "direct"),
				filepath.Join(e.home, "in-home"),
			}
			cmd := fmt.Sprintf(`echo pwned > %q; echo pwned > %q; echo pwned >> %q; ln -s %q escape && echo pwned > escape/via-link; true`,
				targets[0], targets[1], rc, e.outside)
			out := s.run(map[string]any{"command": cmd})
			if !out.Ran {
				t.Fatalf("did not run: %+v", out)
			}
			targets = append(targets, filepath.Join(e.outside, "via-link"))
			for _, p := range targets {
				if got := exists(p); got == sandboxed {
					t.Errorf("%s exists = %v (sandboxed %v)", p, got, sandboxed)
				}
			}
			b, _ := os.ReadFile(rc)
			if changed := string(b) != "# rc\n"; changed == sandboxed {
				t.Errorf("~/.bashrc changed = %v (sandboxed %v): %q", changed, sandboxed, b)
			}
		})
	}
}

// TestMCPNoArgumentWidensTheBoundary tries every way an agent could ask
// for more through the tool's arguments; none may write outside.
func TestMCPNoArgumentWidensTheBoundary(t *testing.T) {
	e := newEnv(t)
	s := startMCP(t, e, nil, "--timeout", "3s")
	target := filepath.Join(e.outside, "widened")
	write := fmt.Sprintf("echo pwned > %q", target)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	// Fields the schema does not have are refused before anything runs.
	for _, extra := range []map[string]any{
		{"mode": "full-access"},
		{"policy": filepath.Join(e.root, "evil.toml")},
		{"workspace": "/"},
		{"writable": []string{e.outside}},
		{"writable_roots": []string{e.outside}},
		{"allow_degraded": []string{"landlock"}},
		{"sandbox": false},
	} {
		args := map[string]any{"command": write}
		for k, v := range extra {
			args[k] = v
		}
		res, err := s.call(ctx, "run_command", args, nil)
		if err == nil && !res.IsError {
			t.Errorf("run_command accepted %v: %s", extra, textOf(res))
		}
	}

	// Working directories that resolve outside the workspace.
	if err := os.Symlink(e.outside, filepath.Join(e.ws, "link-out")); err != nil {
		t.Fatal(err)
	}
	for _, cwd := range []string{"/", "..", "../..", e.outside, "link-out", "sub/../../x", "no-such-dir"} {
		res, err := s.call(ctx, "run_command", map[string]any{"command": "echo pwned > cwd-probe", "cwd": cwd}, nil)
		if err == nil && !res.IsError {
			t.Errorf("cwd %q was accepted", cwd)
			continue
		}
		if err == nil && strings.Contains(textOf(res), e.outside) && cwd != e.outside {
			t.Errorf("cwd %q: the error names the host path it resolved to: %s", cwd, textOf(res))
		}
	}
	if exists(filepath.Join(e.outside, "cwd-probe")) {
		t.Errorf("a command ran in a directory outside the workspace")
	}

	// cordon itself, run inside the sandbox and asked for full access,
	// stays inside the sandbox it was started in.
	out := s.run(map[string]any{"argv": []string{cordonBin, "run", "--mode", "full-access", "--", "sh", "-c", write}})
	if exists(target) {
		t.Errorf("nested cordon run --mode full-access wrote outside the workspace: %+v", out)
	}

	// A timeout longer than the policy's is cut to the policy's.
	out = s.run(map[string]any{"command": "sleep 300", "timeout_seconds": 3600})
	if !out.TimedOut || out.ExitCode != 124 {
		t.Errorf("a 3600 s timeout under a 3 s policy: %+v", out)
	}
	if !strings.Contains(strings.Join(out.Notes, " "), "policy") {
		t.Errorf("no note that the policy's timeout applied: %v", out.Notes)
	}
	if exists(target) {
		t.Fatalf("something wrote outside the workspace")
	}
}

// procsWith returns the pids whose command line holds every word of want.
func procsWith(want ...string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		match := true
		for _, w := range want {
			found := false
			for _, a := range args {
				if a == w {
					found = true
				}
			}
			match = match && found
		}
		if match {
			pids = append(pids, pid)
		}
	}
	return pids
}

// childrenOf returns the pids whose parent is pid.
func childrenOf(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, ent := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			p, _ := strconv.Atoi(ent.Name())
			out = append(out, p)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMCPCancelLeavesNoProcess cancels a running call and checks from
// /proc that the command and its background and setsid children are all
// gone, and that what the server keeps is only its warm sandbox's init
// (sandbox.Session), which holds nothing of the command: every process of
// its PID namespace but itself is killed before a call ends. The server
// goes on serving, in the same sandbox.
func TestMCPCancelLeavesNoProcess(t *testing.T) {
	e := newEnv(t)
	s := startMCP(t, e, nil)
	secs := sleepMarker()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.session.CallTool(ctx, &mcp.CallToolParams{Name: "run_command", Arguments: map[string]any{"command": sleepers(secs)}})
		done <- err
	}()
	// The probe sees the processes while they run.
	waitFor(t, "the four sleeps to start", 30*time.Second, func() bool { return len(procsWith("sleep", secs)) == 4 })
	if len(childrenOf(s.cmd.Process.Pid)) == 0 {
		t.Fatalf("the server has no child process while a command runs; the probe is blind")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call returned %v", err)
	}
	waitFor(t, "every sleep to be gone", 15*time.Second, func() bool { return len(procsWith("sleep", secs)) == 0 })
	for _, pid := range childrenOf(s.cmd.Process.Pid) {
		var descendants []int
		for todo := childrenOf(pid); len(todo) > 0; todo = todo[1:] {
			descendants = append(descendants, todo[0])
			todo = append(todo, childrenOf(todo[0])...)
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if !strings.Contains(string(cmdline), "__cordon_init") || len(descendants) > 0 {
			t.Errorf("after the cancel the server keeps process %d (%q) with %d descendants; only an idle sandbox init may stay", pid, cmdline, len(descendants))
		}
	}
	out := s.run(map[string]any{"command": "echo alive"})
	if out.Stdout != "alive\n" {
		t.Errorf("server after a cancel: %+v", out)
	}
}

// TestMCPClientGoneLeavesNoProcess: the client closes the server's stdin
// in the middle of a call (an agent that quits or crashes); the server
// kills the command, everything it started, and exits.
func TestMCPClientGoneLeavesNoProcess(t *testing.T) {
	e := newEnv(t)
	secs := sleepMarker()
	cmd := detach(exec.Command(cordonBin, "mcp", "--workspace", e.ws))
	cmd.Dir = e.ws
	cmd.Env = e.environ()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	log := &syncBuffer{}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	call, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 2, "method": "tools/call",
		"params": map[string]any{"name": "run_command", "arguments": map[string]any{"command": sleepers(secs)}}})
	fmt.Fprintf(stdin, "%s\n%s\n%s\n",
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`, call)
	waitFor(t, "the four sleeps to start", 30*time.Second, func() bool { return len(procsWith("sleep", secs)) == 4 })
	stdin.Close()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("cordon mcp did not exit after its client went away\n%s", log)
	}
	waitFor(t, "every sleep to be gone", 15*time.Second, func() bool { return len(procsWith("sleep", secs)) == 0 })
}

// sleepMarker is a sleep duration no other process on the machine uses,
// so that /proc can be searched for it.
func sleepMarker() string {
	return fmt.Sprintf("%d", 400000+int(time.Now().UnixNano()%100000))
}

// sleepers starts four sleeps: in the background, in a subshell's
// background, in a new session, and in the foreground.
func sleepers(secs string) string {
	return fmt.Sprintf("sleep %s & (sleep %s &) ; setsid sleep %s & sleep %s", secs, secs, secs, secs)
}

// TestMCPProgress: a long command sends progress notifications to a client
// that gave a progress token. The command waits for the test, so nothing
// here depends on how fast the machine is.
func TestMCPProgress(t *testing.T) {
	e := newEnv(t)
	s := startMCP(t, e, nil, "--progress-every", "100ms")
	params := &mcp.CallToolParams{Name: "run_command", Arguments: map[string]any{
		"command": "while [ ! -e release ]; do sleep 0.05; done; echo released"}}
	params.SetProgressToken("tok-" + e.token)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := s.session.CallTool(ctx, params)
		if err != nil {
			t.Errorf("call: %v", err)
		}
		done <- res
	}()
	select {
	case <-s.progCh:
	case <-ctx.Done():
		t.Fatal("no progress notification arrived")
	}
	writeFile(t, filepath.Join(e.ws, "release"), "", 0o644)
	res := <-done
	if res == nil || res.IsError {
		t.Fatalf("result: %+v", res)
	}
	s.mu.Lock()
	first := s.progress[0]
	s.mu.Unlock()
	if first.ProgressToken != "tok-"+e.token || !strings.Contains(first.Message, "still running") {
		t.Errorf("progress: %+v", first)
	}
}

type checkOutput struct {
	Decision string `json:"decision"`
	Summary  string `json:"summary"`
	Parts    []struct {
		Command  string `json:"command"`
		Decision string `json:"decision"`
		Rule     string `json:"rule"`
		Reason   string `json:"reason"`
	} `json:"parts"`
}

func TestMCPCheckCommandAndAsk(t *testing.T) {
	e := newEnv(t)
	s := startMCP(t, e, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, c := range []struct {
		command, decision, rule string
	}{
		{"git status", "allow", ""},
		{"make test && go vet ./...", "allow", ""},
		{"git push --force origin main", "ask", "pr-merge/git-push-force"},
		{"npm install left-pad", "ask", "dependency-install/npm"},
	} {
		var out checkOutput
		res, err := s.call(ctx, "check_command", map[string]any{"command": c.command}, &out)
		if err != nil || res.IsError {
			t.Fatalf("check_command %q: %v %v", c.command, err, res)
		}
		if out.Decision != c.decision || out.Summary == "" {
			t.Errorf("%q: %+v, want %s", c.command, out, c.decision)
		}
		if c.rule != "" {
			found := false
			for _, p := range out.Parts {
				found = found || p.Rule == c.rule
			}
			if !found {
				t.Errorf("%q: no part decided by %s: %+v", c.command, c.rule, out.Parts)
			}
		}
	}

	// An "ask" command is not run: this server has no approval channel.
	marker := filepath.Join(e.ws, "ran-"+e.token)
	out := s.run(map[string]any{"command": fmt.Sprintf("touch %q; npm install left-pad", marker)})
	if out.Ran || out.Decision != "ask" || len(out.Refusals) != 1 || out.Refusals[0].Kind != "approval_required" {
		t.Fatalf("ask: %+v", out)
	}
	if !strings.Contains(out.Refusals[0].Message, "approval") || !strings.Contains(out.Refusals[0].Message, "Ask the user") {
		t.Errorf("refusal message does not say what to do: %q", out.Refusals[0].Message)
	}
	if exists(marker) {
		t.Errorf("a command needing approval ran")
	}
	// The control: the same touch alone runs.
	s.run(map[string]any{"command": fmt.Sprintf("touch %q", marker)})
	if !exists(marker) {
		t.Errorf("the control command did not run")
	}
}

type infoOutput struct {
	Mode          string   `json:"mode"`
	Workspace     string   `json:"workspace"`
	WritableRoots []string `json:"writable_roots"`
	Network       struct {
		Access string `json:"access"`
		Detail string `json:"detail"`
	} `json:"network"`
	Enforcement []struct {
		Name, Status string
	} `json:"enforcement"`
	Machine struct {
		System string `json:"system"`
		Facts  []struct {
			Name string `json:"name"`
			OK   bool   `json:"ok"`
		} `json:"facts"`
	} `json:"machine"`
}

func TestMCPSandboxInfo(t *testing.T) {
	e := newEnv(t)
	s := startMCP(t, e, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out infoOutput
	res, err := s.call(ctx, "sandbox_info", map[string]any{}, &out)
	if err != nil || res.IsError {
		t.Fatalf("sandbox_info: %v %v", err, res)
	}
	if out.Mode != "workspace-write" || out.Workspace != e.ws || len(out.WritableRoots) == 0 || out.WritableRoots[0] != e.ws {
		t.Errorf("info: %+v", out)
	}
	if out.Network.Access != "none" {
		t.Errorf("network: %+v", out.Network)
	}
	layers := map[string]string{}
	for _, l := range out.Enforcement {
		layers[l.Name] = l.Status
	}
	for _, name := range []string{"namespaces", "landlock", "seccomp", "network"} {
		if layers[name] != "applied" {
			t.Errorf("layer %s: %q", name, layers[name])
		}
	}
	if out.Machine.System == "" || len(out.Machine.Facts) == 0 {
		t.Errorf("machine facts: %+v", out.Machine)
	}
	// Arguments are refused here too.
	res, err = s.call(ctx, "sandbox_info", map[string]any{"mode": "full-access"}, nil)
	if err == nil && !res.IsError {
		t.Errorf("sandbox_info accepted an argument")
	}
}

// TestMCPSecretsStayOut: a secret in the server's environment reaches
// neither the command nor any answer; a host path outside the workspace in
// one of cordon's own errors is redacted (and the log, for the human, has
// it in full, which shows the error really carried it).
func TestMCPSecretsStayOut(t *testing.T) {
	e := newEnv(t)
	canary := "canary-" + e.token + "-secret"
	s := startMCP(t, e, []string{"MY_API_KEY=" + canary, "GITHUB_TOKEN=" + canary})
	out := s.run(map[string]any{"command": "env; cat /proc/self/environ"})
	if strings.Contains(out.Stdout+out.Stderr, canary) {
		t.Errorf("the secret reached the command")
	}
	if !strings.Contains(out.Stdout, "HOME=") {
		t.Errorf("env printed nothing; the probe is blind: %q", out.Stdout)
	}

	// Break the home's cache directory, where cordon keeps the workspace's
	// private tool cache, so that running fails inside cordon with an
	// error that names a host path.
	cache := filepath.Join(e.home, ".cache")
	os.RemoveAll(cache)
	writeFile(t, cache, "not a directory", 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := s.call(ctx, "run_command", map[string]any{"command": "true"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError {
		t.Fatalf("expected cordon to fail with a broken cache directory: %s", textOf(res))
	}
	msg := textOf(res)
	if strings.Contains(msg, e.root) || strings.Contains(msg, canary) {
		t.Errorf("the error given to the agent names a host path outside the workspace or a secret: %s", msg)
	}
	if !strings.Contains(msg, "<path outside the workspace>") {
		t.Errorf("expected a redacted path in %q", msg)
	}
	// The server writes its log line after it answers; give it a moment.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.log.String(), e.home) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.log.String(), e.home) {
		t.Errorf("the server log should keep the full error for the human:\n%s", s.log)
	}
}

// TestMCPFromCodexConfig starts the server from the Codex snippet
// (~/.codex/config.toml) instead.
func TestMCPFromCodexConfig(t *testing.T) {
	e := newEnv(t)
	var cfg struct {
		MCPServers map[string]struct {
			Command string   `toml:"command"`
			Args    []string `toml:"args"`
		} `toml:"mcp_servers"`
	}
	if err := toml.Unmarshal([]byte(e.snippet(t, "codex-config.toml")), &cfg); err != nil {
		t.Fatal(err)
	}
	entry := cfg.MCPServers["cordon"]
	s := startMCPCommand(t, e, nil, entry.Command, entry.Args)
	out := s.run(map[string]any{"command": "pwd; hostname"})
	if out.Stdout != e.ws+"\ncordon\n" {
		t.Errorf("%+v", out)
	}
}

// policyWithRules writes a policy file outside the workspace (so that it
// is trusted and may name an approver) with a deny rule and an approver
// program that allows only command lines holding "allow-me".
func policyWithRules(t *testing.T, e *env) string {
	t.Helper()
	approver := filepath.Join(e.root, "approver")
	writeFile(t, approver, `#!/bin/sh
if grep -q allow-me; then
  echo '{"decision":"allow","scope":"once","approver":"test-approver"}'
else
  echo '{"decision":"deny","approver":"test-approver","reason":"not today"}'
fi
`, 0o755)
	p := filepath.Join(e.root, "policy.toml")
	writeFile(t, p, fmt.Sprintf(`version = 1

[approval]
approver = [%q]
timeout = "30s"

[[commands.rule]]
name = "no-curl"
match = ["curl", "**"]
decision = "deny"
reason = "downloads are not allowed in this project"
`, approver), 0o644)
	return p
}

// TestMCPPolicyDecides: a deny rule of the policy refuses a command, an
// approver that says no refuses one that needs approval, one that says yes
// lets it run; the host shows which ran.
func TestMCPPolicyDecides(t *testing.T) {
	e := newEnv(t)
	s := startMCP(t, e, nil, "--policy", policyWithRules(t, e))

	out := s.run(map[string]any{"command": "touch denied-ran; curl -s https://example.com"})
	if out.Ran || out.Decision != "deny" || len(out.Refusals) != 1 {
		t.Fatalf("deny: %+v", out)
	}
	r := out.Refusals[0]
	if r.Kind != "command_rule" || r.Rule != "no-curl" || !strings.Contains(r.Message, "downloads are not allowed in this project") {
		t.Errorf("deny refusal: %+v", r)
	}

	ask := "touch %s; git push --force origin main 2>/dev/null; true"
	out = s.run(map[string]any{"command": fmt.Sprintf(ask, "refused-ran")})
	if out.Ran || out.Decision != "ask" || len(out.Refusals) != 1 || out.Refusals[0].Kind != "approval_denied" ||
		!strings.Contains(out.Refusals[0].Message, "not today") {
		t.Fatalf("refused approval: %+v", out)
	}

	out = s.run(map[string]any{"command": fmt.Sprintf(ask, "approved-ran") + " # allow-me"})
	if !out.Ran || len(out.Refusals) != 0 {
		t.Fatalf("approved: %+v", out)
	}
	for name, want := range map[string]bool{"denied-ran": false, "refused-ran": false, "approved-ran": true} {
		if got := exists(filepath.Join(e.ws, name)); got != want {
			t.Errorf("%s exists = %v, want %v", name, got, want)
		}
	}
	// The audit trail of the session has the decisions.
	if !strings.Contains(s.log.String(), "not run (approval_denied)") {
		t.Errorf("server log:\n%s", s.log)
	}
}

// TestMCPDeniedHost: with the network through cordon's proxy and one host
// allowed, a command reaches that host (the control: the probe sees
// connections) and not another; the listener of the other gets nothing,
// and the refusal names it.
func TestMCPDeniedHost(t *testing.T) {
	e := newEnv(t)
	allowedLn, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.2 (Linux's loopback is 127.0.0.0/8): %v", err)
	}
	var allowedHits atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		allowedHits.Add(1)
		io.WriteString(w, "hello from the host\n")
	})}
	go srv.Serve(allowedLn)
	defer srv.Close()
	deniedLn, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	defer deniedLn.Close()
	var deniedHits atomic.Int32
	go func() {
		for {
			c, err := deniedLn.Accept()
			if err != nil {
				return
			}
			deniedHits.Add(1)
			c.Close()
		}
	}()
	policy := filepath.Join(e.root, "network.toml")
	writeFile(t, policy, fmt.Sprintf("version = 1\n\n[network]\nmode = \"proxy\"\nallow = [%q]\n", allowedLn.Addr().String()), 0o644)
	s := startMCP(t, e, nil, "--policy", policy)

	denied := deniedLn.Addr().(*net.TCPAddr)
	out := s.run(map[string]any{"command": fmt.Sprintf("curl -s --max-time 20 http://%s/; curl -s --max-time 20 http://%s/; true",
		allowedLn.Addr(), denied)})
	if !strings.Contains(out.Stdout, "hello from the host") || allowedHits.Load() == 0 {
		t.Fatalf("the allowed host was not reached; the probe is blind: %+v", out)
	}
	if n := deniedHits.Load(); n != 0 {
		t.Errorf("the denied host's listener got %d connections", n)
	}
	var found bool
	for _, r := range out.Refusals {
		if r.Kind == "network" && r.Subject == denied.String() && strings.Contains(r.Message, "Ask the user to allow it") {
			found = true
		}
		if strings.Contains(r.Subject, allowedLn.Addr().String()) {
			t.Errorf("the allowed host is listed as refused: %+v", r)
		}
	}
	if !found {
		t.Errorf("no network refusal for %s: %+v", denied, out.Refusals)
	}
	var info infoOutput
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := s.call(ctx, "sandbox_info", map[string]any{}, &info); err != nil {
		t.Fatal(err)
	}
	if info.Network.Access != "proxy" {
		t.Errorf("sandbox_info network: %+v", info.Network)
	}
}
