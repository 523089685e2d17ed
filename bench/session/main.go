// Command session measures an agent-like session: a list of typical short
// commands (git status, ls, cat, grep -r, go vet of a small package) run
// one after another bare, under bubblewrap, through `cordon run` (a cold
// sandbox per command) and through one `cordon mcp` server (warm
// sandboxes, a real stdio client), all in one process so that they share
// the machine's noise. It reports each one's total wall time and its ratio
// to bare, the time per MCP call of `true`, and the peak memory of the MCP
// server and of its sandbox's init.
//
// Usage: go run ./bench/session [-n ROUNDS] [-cordon PATH] [-workspace DIR] [-policy FILE]
// The workspace defaults to this repository's checkout (a real project for
// git, grep and go vet); bwrap must be installed (Debian: bubblewrap).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cordon-sandbox/cordon/internal/testutil/mcpclient"
)

// commands is one round of the session: what an agent runs while it reads
// and checks a Go project.
var commands = []string{
	"git status --short",
	"ls -la",
	"cat go.mod",
	"grep -rn --include=*.go 'func Make' internal/plan",
	"git log --oneline -5",
	"ls internal",
	"cat README.md",
	"grep -rln TODO --include=*.go .",
	"go vet ./internal/report/",
	"true",
}

func main() {
	rounds := flag.Int("n", 20, "rounds of the command list (10 commands each)")
	cordon := flag.String("cordon", "", "the cordon binary (default: built from this checkout)")
	ws := flag.String("workspace", "", "the workspace (default: this checkout)")
	policyFile := flag.String("policy", "", "a policy file for cordon run and cordon mcp (--policy)")
	flag.Parse()
	if *ws == "" {
		wd, _ := os.Getwd()
		*ws = wd
	}
	real, err := filepath.EvalSymlinks(*ws)
	check(err)
	*ws = real
	if *cordon == "" {
		dir, err := os.MkdirTemp("/var/tmp", "cordon-bench-")
		check(err)
		defer os.RemoveAll(dir)
		*cordon = filepath.Join(dir, "cordon")
		build := exec.Command("go", "build", "-trimpath", "-o", *cordon, "./cmd/cordon")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stderr = os.Stderr
		check(build.Run())
	}
	bwrap, err := exec.LookPath("bwrap")
	check(err)
	// go vet needs its caches: give bare and bwrap runs a private one too,
	// as cordon's private cache is, so that no variant reads another's.
	cache, err := os.MkdirTemp("/var/tmp", "cordon-bench-cache-")
	check(err)
	defer os.RemoveAll(cache)

	var list []string
	for range *rounds {
		list = append(list, commands...)
	}
	sh := func(c string) []string { return []string{"/bin/sh", "-c", c} }
	env := append(os.Environ(), "GOCACHE="+filepath.Join(cache, "go-build"), "GOFLAGS=-buildvcs=false")
	runAll := func(wrap func(argv []string) []string) time.Duration {
		begin := time.Now()
		for _, c := range list {
			argv := wrap(sh(c))
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Dir, cmd.Env = *ws, env
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "session: %q: %v\n%s", c, err, out)
				os.Exit(1)
			}
		}
		return time.Since(begin)
	}
	bare := func(argv []string) []string { return argv }
	bw := func(argv []string) []string {
		return append([]string{bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
			"--bind", *ws, *ws, "--bind", cache, cache, "--unshare-all", "--die-with-parent", "--new-session"}, argv...)
	}
	var extra []string
	if *policyFile != "" {
		extra = []string{"--policy", *policyFile}
	}
	cold := func(argv []string) []string {
		return append(append(append([]string{*cordon, "run"}, extra...), "--"), argv...)
	}

	// Warm-up of every variant (caches, the go vet build).
	for _, w := range []func([]string) []string{bare, bw, cold} {
		runAll(w)
	}
	mcp := startMCP(*cordon, *ws, extra)
	mcp.runAll(list)

	fmt.Printf("%d commands (%d rounds of %d), workspace %s\n", len(list), *rounds, len(commands), *ws)
	tBare := runAll(bare)
	tBwrap := runAll(bw)
	tCold := runAll(cold)
	tWarm := mcp.runAll(list)
	for _, r := range []struct {
		name string
		d    time.Duration
	}{{"bare", tBare}, {"bwrap", tBwrap}, {"cordon run (cold)", tCold}, {"cordon mcp (warm)", tWarm}} {
		fmt.Printf("  %-20s %9v  %6.2fx bare  %6.2f ms/command over bare\n", r.name, r.d.Round(time.Millisecond),
			float64(r.d)/float64(tBare), float64(r.d-tBare)/float64(len(list))/1e6)
	}

	// The per-call cost of the smallest command through MCP, and memory.
	trues := make([]string, 200)
	for i := range trues {
		trues[i] = "true"
	}
	tTrue := mcp.runAll(trues)
	fmt.Printf("  MCP run_command of true: %.2f ms per call (warm, %d calls)\n", float64(tTrue)/float64(len(trues))/1e6, len(trues))
	fmt.Printf("  peak RSS: cordon mcp %s, its warm sandbox's init %s\n", hwm(mcp.Cmd.Process.Pid), initsHWM(mcp.Cmd.Process.Pid))
	mcp.close()
}

type client struct{ *mcpclient.Client }

func startMCP(cordon, ws string, extra []string) *client {
	cmd := exec.Command(cordon, append([]string{"mcp"}, extra...)...)
	cmd.Dir = ws
	c, err := mcpclient.Start(cmd, "bench")
	check(err)
	return &client{c}
}

func (c *client) runAll(list []string) time.Duration {
	begin := time.Now()
	for _, cmd := range list {
		r, raw, err := c.RunCommand(map[string]any{"command": cmd})
		check(err)
		if !r.Ran || r.ExitCode != 0 {
			fmt.Fprintf(os.Stderr, "session: mcp %q: %s\n", cmd, raw)
			os.Exit(1)
		}
	}
	return time.Since(begin)
}

func (c *client) close() { c.Close() }

// hwm is a process's peak resident memory (VmHWM).
func hwm(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.Join(strings.Fields(l)[1:], " ")
		}
	}
	return "?"
}

func initsHWM(parent int) string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == fmt.Sprint(parent) {
			var pid int
			fmt.Sscan(e.Name(), &pid)
			out = append(out, hwm(pid))
		}
	}
	return strings.Join(out, ", ")
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "session:", err)
		os.Exit(1)
	}
}
