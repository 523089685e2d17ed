//go:build linux

// Package auditrun checks the audit trail of real `cordon run` processes:
// many at once against one log, and a required sink that is down.
package auditrun

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

var cordonBin string

func TestMain(m *testing.M) {
	testbin.Main(m, map[string]*string{"cordon": &cordonBin}, map[string]string{"cordon": testbin.Cordon})
}

func newHome(t *testing.T) (home, ws string) {
	root, err := os.MkdirTemp("/var/tmp", "cordon-auditrun-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	home = filepath.Join(root, "home")
	ws = filepath.Join(home, "ws")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	return home, ws
}

func cordon(home, ws string, args ...string) *exec.Cmd {
	cmd := exec.Command(cordonBin, args...)
	cmd.Dir = ws
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/local/bin:/usr/bin:/bin"}
	return cmd
}

// TestConcurrentRuns: 50 `cordon run` processes at once append to one log;
// the chain stays valid and every run's events are there, once.
func TestConcurrentRuns(t *testing.T) {
	home, ws := newHome(t)
	const runs = 50
	var wg sync.WaitGroup
	errs := make(chan error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := cordon(home, ws, "run", "--", "sh", "-c", fmt.Sprintf("exit %d", i%7)).CombinedOutput()
			if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == i%7 {
				err = nil
			}
			if err != nil {
				errs <- fmt.Errorf("run %d: %v: %s", i, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	out, err := cordon(home, ws, "audit", "verify").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "intact") {
		t.Fatalf("cordon audit verify: %v\n%s", err, out)
	}
	log := filepath.Join(home, ".local", "state", "cordon", "audit.jsonl")
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kinds := map[string]map[string]int{} // run -> kind -> count
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct{ Run, Kind string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		if kinds[ev.Run] == nil {
			kinds[ev.Run] = map[string]int{}
		}
		kinds[ev.Run][ev.Kind]++
	}
	if len(kinds) != runs {
		t.Fatalf("%d runs in the log, want %d", len(kinds), runs)
	}
	for run, k := range kinds {
		for _, kind := range []string{"policy_loaded", "command_requested", "enforcement", "process_start", "process_exit", "run_end"} {
			if k[kind] != 1 {
				t.Errorf("run %s has %d %s events, want 1", run, k[kind], kind)
			}
		}
	}
}

// TestRequiredSinkDown: with an OTLP sink the policy requires and nobody
// listening, no command starts, and the message says which sink and why.
func TestRequiredSinkDown(t *testing.T) {
	home, ws := newHome(t)
	policy := filepath.Join(home, ".config", "cordon", "policy.toml")
	os.MkdirAll(filepath.Dir(policy), 0o755)
	os.WriteFile(policy, []byte("version = 1\n[audit.otlp]\nenabled = true\nrequired = true\nendpoint = \"http://127.0.0.1:1/v1/logs\"\ntimeout_seconds = 2\n"), 0o644)
	marker := filepath.Join(ws, "ran")
	cmd := cordon(home, ws, "run", "--", "touch", marker)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 125 {
		t.Fatalf("exit = %v, want 125: %s", err, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the command ran although a required audit sink was down")
	}
	if !strings.Contains(string(out), "otlp") || !strings.Contains(string(out), "required") {
		t.Errorf("the message does not name the sink: %s", out)
	}
}
