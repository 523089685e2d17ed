//go:build linux

package approval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/approval"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// inboxStatus is what the inbox's /api/status reports.
type inboxStatus struct {
	Pending     int `json:"pending"`
	Connections int `json:"connections"`
	Asked       int `json:"asked"`
	Rejected    int `json:"rejected"`
}

// requesterToken reads the token the inbox published for cordon processes.
func (e *env) requesterToken() string {
	e.t.Helper()
	var ep struct{ Token string }
	data, err := os.ReadFile(filepath.Join(sandbox.StateDir(e.home), "approve", "inbox.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ep); err != nil || ep.Token == "" {
		e.t.Fatalf("the inbox's address file: %q (%v)", data, err)
	}
	return ep.Token
}

// status asks the inbox what reached it, over a connection of its own
// (counted: one per call).
func (e *env) status(inbox *inboxProc, token string) inboxStatus {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, inbox.baseURL+"/api/status", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st inboxStatus
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("inbox status: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

// snapshot describes the approval files in the state directory (the inbox's
// address and the grant store; cordon run itself writes its audit log and
// workspace locks next to them) and the user's policy file.
func (e *env) snapshot(policyFile string) string {
	e.t.Helper()
	var b strings.Builder
	for _, sub := range []string{"approve", "grants"} {
		root := filepath.Join(sandbox.StateDir(e.home), sub)
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintf(&b, "%s: %v\n", p, err)
				return nil
			}
			info, _ := d.Info()
			fmt.Fprintf(&b, "%s %v %d", p, info.Mode(), info.Size())
			if d.Type().IsRegular() {
				data, _ := os.ReadFile(p)
				sum := sha256.Sum256(data)
				fmt.Fprintf(&b, " %s", hex.EncodeToString(sum[:8]))
			}
			b.WriteByte('\n')
			return nil
		})
	}
	data, err := os.ReadFile(policyFile)
	fmt.Fprintf(&b, "policy: %q %v\n", data, err)
	return b.String()
}

type probeRun struct {
	report map[string]string
	stderr string
}

func (e *env) runProbe(sandboxed bool, extra []string, args ...string) probeRun {
	e.t.Helper()
	argv := append([]string{probeBin}, args...)
	if sandboxed {
		argv = append(append(append([]string{cordonBin, "run"}, extra...), "--"), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = e.ws
	cmd.Env = e.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 125 {
		e.t.Fatalf("cordon could not set up the sandbox (exit 125): %s", errb.String())
	} else if err != nil && !ok {
		e.t.Fatal(err)
	}
	if !strings.Contains(errb.String(), "probe: started") {
		e.t.Fatalf("the probe never ran (sandboxed=%v), so its outcome proves nothing: %s", sandboxed, errb.String())
	}
	var r probeRun
	r.stderr = errb.String()
	if err := json.Unmarshal(out.Bytes(), &r.report); err != nil || len(r.report) != 8 {
		e.t.Fatalf("the probe's report %q (%v) does not list its 8 attempts", out.String(), err)
	}
	return r
}

// A sandboxed command must not be able to approve anything: it cannot
// reach the inbox (no network to the host's loopback), read the inbox's
// token, write the grant store or the user's policy file. Judged from the
// host: the inbox's own counters and the files. The same probe run outside
// the sandbox shows that each check would see the attempt succeed.
func TestSandboxedCommandCannotApprove(t *testing.T) {
	modes := []struct {
		name  string
		flags []string
	}{
		{"full", nil},
		{"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t)
			policyFile := filepath.Join(e.home, ".config", "cordon", "policy.toml")
			os.MkdirAll(filepath.Dir(policyFile), 0o755)
			if err := os.WriteFile(policyFile, []byte("version = 1\n# mine\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			inbox := e.startInbox()
			port := inbox.baseURL[strings.LastIndex(inbox.baseURL, ":")+1:]
			// A grant store with a session grant in it, to attack.
			grant := approval.Request{Command: "make", Argv: []string{"make"}, Workspace: e.ws, Session: "s1"}
			if err := approval.NewGrants(e.home).Remember(grant, approval.Answer{Decision: approval.Allow, Scope: approval.ScopeSession, Channel: approval.ChannelWeb}); err != nil {
				t.Fatal(err)
			}
			stateDir := sandbox.StateDir(e.home)
			token := e.requesterToken()

			before := e.status(inbox, token)
			files := e.snapshot(policyFile)
			inside := e.runProbe(true, mode.flags, port, stateDir, policyFile)
			after := e.status(inbox, token)
			for what, outcome := range inside.report {
				switch {
				case strings.HasPrefix(outcome, "failed"):
				case what == "list the state directory":
					// Names only, no secret; the Landlock-only mode lets a
					// directory be listed whose files it does not let be read.
					t.Logf("inside the sandbox (%s mode), %q %s", mode.name, what, outcome)
				default:
					t.Errorf("inside the sandbox, %q %s", what, outcome)
				}
			}
			if after.Connections != before.Connections+1 || after.Rejected != before.Rejected || after.Asked != before.Asked {
				t.Errorf("something reached the inbox from the sandbox: before %+v, after %+v (one connection is the status query itself)", before, after)
			}
			if now := e.snapshot(policyFile); now != files {
				t.Errorf("the sandboxed probe changed approval files:\nbefore:\n%s\nafter:\n%s", files, now)
			}
			if _, ok := approval.NewGrants(e.home).Lookup(grant); !ok {
				t.Error("the session grant is gone")
			}

			// Baseline: outside the sandbox the same probe reaches all of it,
			// and the checks above see it.
			outside := e.runProbe(false, nil, port, stateDir, policyFile)
			for _, what := range []string{"connect 127.0.0.1", "read the inbox token", "write a session grant", "append to the user's policy"} {
				if outside.report[what] != "succeeded" {
					t.Errorf("outside the sandbox, %q %s: the probe cannot show an escape", what, outside.report[what])
				}
			}
			base := e.status(inbox, token)
			if base.Connections <= after.Connections+1 || base.Rejected <= after.Rejected {
				t.Errorf("the inbox's counters do not see the probe from outside: %+v then %+v", after, base)
			}
			if now := e.snapshot(policyFile); now == files {
				t.Error("the file snapshot does not see the probe's writes from outside")
			}
		})
	}
}
