//go:build linux

package escape

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEscapesWarm runs every probe of the table through a warm sandbox:
// `cordon mcp` (one sandbox.Session) runs a first command, and the probe
// runs second, in the sandbox the first one built. The escape is judged
// from the host as in TestEscapes; the harness also checks that the probe
// really ran in the reused sandbox.
func TestEscapesWarm(t *testing.T) {
	for _, u := range users() {
		for _, p := range probes() {
			t.Run(u.name+"/"+p.name, func(t *testing.T) {
				for _, sandboxed := range []bool{false, true} {
					e := newEnv(t, u.uid)
					var extraEnv []string
					if p.setup != nil {
						extraEnv = p.setup(e)
					}
					argv := p.argv(e)
					var r result
					if sandboxed {
						r = e.runWarm(extraEnv, argv)
					} else {
						r = e.run(false, extraEnv, argv...)
					}
					escaped := p.escaped(e, r)
					if !sandboxed && !escaped {
						t.Fatalf("baseline without cordon did not escape, so the probe proves nothing (exit %d, stderr %q)", r.code, r.stderr)
					}
					if sandboxed && escaped {
						t.Errorf("ESCAPED through a warm sandbox (exit %d)\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
					}
				}
			})
		}
	}
}

// mcpClient speaks JSON-RPC to a `cordon mcp` over its standard streams.
type mcpClient struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	nextID int
}

// runWarm starts `cordon mcp` in the env, runs /bin/true and then argv as
// two calls, and returns the second's outcome.
func (e *env) runWarm(extraEnv []string, argv []string) result {
	e.t.Helper()
	c := e.startMCP(extraEnv)
	defer c.close()
	if first := c.call(map[string]any{"argv": []string{"/bin/true"}}); first.code != 0 {
		e.t.Fatalf("the first command of the session failed (exit %d): %s", first.code, first.stderr)
	}
	inits := c.inits()
	if len(inits) != 1 {
		e.t.Fatalf("after the first command the server keeps %d sandbox inits, want 1 warm one", len(inits))
	}
	r := c.call(map[string]any{"argv": argv})
	if after := c.inits(); !slices.Equal(after, inits) {
		e.t.Fatalf("the probe did not run in the warm sandbox: inits %v before, %v after", inits, after)
	}
	if !strings.Contains(r.stderr, "probe: started") {
		e.t.Fatalf("the probe never ran in the warm sandbox (exit %d), so its outcome proves nothing: %s", r.code, r.stderr)
	}
	return r
}

func (e *env) startMCP(extraEnv []string) *mcpClient {
	e.t.Helper()
	cmd := exec.Command(cordonBin, append([]string{"mcp"}, e.extra...)...)
	cmd.Dir = e.ws
	cmd.Env = append([]string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}, extraEnv...)
	cmd.SysProcAttr = e.command(true, nil, "true").SysProcAttr
	in, err := cmd.StdinPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	c := &mcpClient{t: e.t, cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	c.request("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "escape-tests", "version": "1"}})
	c.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
	return c
}

func (c *mcpClient) send(msg map[string]any) {
	b, _ := json.Marshal(msg)
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		c.t.Fatalf("write to cordon mcp: %v", err)
	}
}

// request sends a request and returns its result, skipping notifications.
func (c *mcpClient) request(method string, params any) json.RawMessage {
	c.t.Helper()
	c.nextID++
	id := c.nextID
	c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	deadline := time.AfterFunc(2*time.Minute, func() { c.cmd.Process.Kill() })
	defer deadline.Stop()
	for {
		line, err := c.out.ReadBytes('\n')
		if err != nil {
			c.t.Fatalf("cordon mcp ended before answering %s: %v", method, err)
		}
		var m struct {
			ID     *int            `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(line, &m) != nil || m.ID == nil || *m.ID != id {
			continue
		}
		if m.Error != nil {
			c.t.Fatalf("%s: %s", method, m.Error.Message)
		}
		return m.Result
	}
}

// call runs run_command and returns its outcome.
func (c *mcpClient) call(args map[string]any) result {
	c.t.Helper()
	raw := c.request("tools/call", map[string]any{"name": "run_command", "arguments": args})
	var res struct {
		Structured struct {
			Ran      bool   `json:"ran"`
			ExitCode int    `json:"exit_code"`
			Stdout   string `json:"stdout"`
			Stderr   string `json:"stderr"`
		} `json:"structuredContent"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		c.t.Fatalf("run_command answer: %v: %s", err, raw)
	}
	s := res.Structured
	if !s.Ran {
		c.t.Fatalf("run_command did not run the command: %s", raw)
	}
	return result{stdout: s.Stdout, stderr: s.Stderr, code: s.ExitCode}
}

// inits lists the sandbox inits the server keeps.
func (c *mcpClient) inits() []int {
	var out []int
	for _, pid := range childPIDs(c.cmd.Process.Pid) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(b), "__cordon_init") {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

func (c *mcpClient) close() {
	c.in.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-done
		c.t.Errorf("cordon mcp did not end within 30 s of its input closing")
	}
}

// childPIDs lists the children of pid.
func childPIDs(pid int) []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			n, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
			out = append(out, n)
		}
	}
	return out
}
