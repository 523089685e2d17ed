//go:build linux

package escape

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/mcpclient"
)

// TestEscapesWarm runs every probe of the table through a warm sandbox:
// `cordon mcp` (one sandbox.Session) runs a first command, and the probe
// runs second, in the sandbox the first one built. The escape is judged
// from the host as in TestEscapes; the harness also checks that the probe
// really ran in the reused sandbox.
func TestEscapesWarm(t *testing.T) {
	for _, p := range spinFirst(probes()) {
		for _, u := range users() {
			t.Run(u.name+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				holdSpinning(t, p)
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

// mcpClient is a `cordon mcp` session of one test.
type mcpClient struct {
	t *testing.T
	*mcpclient.Client
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
	c, err := mcpclient.Start(cmd, "escape-tests")
	if err != nil {
		e.t.Fatal(err)
	}
	return &mcpClient{e.t, c}
}

// call runs run_command and returns its outcome.
func (c *mcpClient) call(args map[string]any) result {
	c.t.Helper()
	s, raw, err := c.RunCommand(args)
	if err != nil {
		c.t.Fatal(err)
	}
	if !s.Ran {
		c.t.Fatalf("run_command did not run the command: %s", raw)
	}
	return result{stdout: s.Stdout, stderr: s.Stderr, code: s.ExitCode}
}

// inits lists the sandbox inits the server keeps.
func (c *mcpClient) inits() []int {
	var out []int
	for _, pid := range childPIDs(c.Cmd.Process.Pid) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(b), "__cordon_init") {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

func (c *mcpClient) close() {
	if !c.Close() {
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
