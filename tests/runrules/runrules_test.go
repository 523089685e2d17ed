//go:build linux

// Package runrules checks that `cordon run` applies the command rules before
// anything runs: deny refuses, ask waits for the configured approver, and
// the answer is recorded; and that a host the network policy says to ask
// about is held while the approver answers. Outcomes are judged from the
// host: a file the command would create, a listener it would reach.
package runrules

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

var cordonBin string

func TestMain(m *testing.M) {
	testbin.Main(m, map[string]*string{"cordon": &cordonBin}, map[string]string{"cordon": testbin.Cordon})
}

type env struct {
	t        *testing.T
	home, ws string
}

// newEnv makes a home whose policy asks before touch, denies rm, and names
// an approver script that answers with answer ("allow" or "deny").
func newEnv(t *testing.T, answer, extraPolicy string) *env {
	root, err := os.MkdirTemp("/var/tmp", "cordon-runrules-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	e := &env{t: t, home: filepath.Join(root, "home")}
	e.ws = filepath.Join(e.home, "ws")
	os.MkdirAll(e.ws, 0o755)
	approver := filepath.Join(root, "approver.sh")
	script := fmt.Sprintf("#!/bin/sh\ncat > %s/asked.json\nprintf '{\"decision\": \"%s\", \"scope\": \"once\", \"approver\": \"test\", \"reason\": \"test said %s\"}\\n'\n", root, answer, answer)
	os.WriteFile(approver, []byte(script), 0o755)
	policy := fmt.Sprintf(`version = 1
[approval]
approver = [%q]
timeout = "20s"

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
%s`, approver, extraPolicy)
	p := filepath.Join(e.home, ".config", "cordon", "policy.toml")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(policy), 0o644)
	return e
}

func (e *env) run(argv ...string) (string, int) {
	cmd := exec.Command(cordonBin, append([]string{"run", "--"}, argv...)...)
	cmd.Dir = e.ws
	cmd.Env = []string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return string(out), code
}

func (e *env) auditHas(kind, text string) bool {
	b, _ := os.ReadFile(filepath.Join(e.home, ".local", "state", "cordon", "audit.jsonl"))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `"kind":"`+kind+`"`) && strings.Contains(line, text) {
			return true
		}
	}
	return false
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestAskApproved(t *testing.T) {
	e := newEnv(t, "allow", "")
	out, code := e.run("touch", "approved")
	if code != 0 || !exists(filepath.Join(e.ws, "approved")) {
		t.Fatalf("approved command did not run (exit %d): %s", code, out)
	}
	if !e.auditHas("approval", `"decision":"allow"`) {
		t.Errorf("no approval event in the audit trail")
	}
}

func TestAskRefused(t *testing.T) {
	e := newEnv(t, "deny", "")
	out, code := e.run("touch", "refused")
	if exists(filepath.Join(e.ws, "refused")) {
		t.Fatalf("a refused command ran: %s", out)
	}
	if code != 126 || !strings.Contains(out, "not approved") {
		t.Errorf("exit %d, output %q; want 126 and a message", code, out)
	}
	if !e.auditHas("approval", `"decision":"deny"`) || !e.auditHas("run_end", `"outcome":"denied"`) {
		t.Errorf("the refusal is not in the audit trail")
	}
}

func TestDenyRuleInsideCompound(t *testing.T) {
	e := newEnv(t, "allow", "")
	os.WriteFile(filepath.Join(e.ws, "keep"), []byte("x"), 0o644)
	out, code := e.run("sh", "-c", "true && rm -f keep")
	if !exists(filepath.Join(e.ws, "keep")) {
		t.Fatalf("a denied command ran: %s", out)
	}
	if code != 126 || !strings.Contains(out, "no deleting here") {
		t.Errorf("exit %d, output %q", code, out)
	}
	// The same command line without the denied part runs.
	if _, code := e.run("sh", "-c", "true && ls"); code != 0 {
		t.Errorf("an allowed compound command was refused")
	}
}

// TestNetworkAsk: a host no rule lists, under unlisted = "ask", is held
// while the approver is asked, and the answer is recorded; a refused host
// is not reached. (An approved one is reached only if it is public: a
// human's answer is not consent to private or loopback addresses, so the
// loopback listener here stays unreached either way; the proxy's own tests
// cover an approved public host with an injected resolver.)
func TestNetworkAsk(t *testing.T) {
	for _, answer := range []string{"allow", "deny"} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel() // each spends half a second showing that nothing arrives
			l, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			var got atomic.Int64
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					got.Add(1)
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
					c.Close()
				}
			}()
			e := newEnv(t, answer, "[network]\nmode = \"proxy\"\nunlisted = \"ask\"\n")
			out, _ := e.run("curl", "-s", "--noproxy", "", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "15", "http://"+l.Addr().String()+"/")
			time.Sleep(500 * time.Millisecond) // room for a late connection to show
			if got.Load() != 0 {
				t.Fatalf("the loopback host was reached (answer %s): %s", answer, out)
			}
			asked, _ := os.ReadFile(filepath.Join(filepath.Dir(e.home), "asked.json"))
			if !strings.Contains(string(asked), l.Addr().String()) || !strings.Contains(string(asked), `"network"`) {
				t.Fatalf("the approver was not asked about the host: %q", asked)
			}
			if !e.auditHas("approval", `"decision":"`+answer+`"`) || !e.auditHas("approval", l.Addr().String()) {
				t.Errorf("the network question and its answer are not in the audit trail")
			}
		})
	}
}

// TestApprovedByAgent: a command the agent's own prompt had a human approve
// (cordon run --approved-by) is not asked again; the approval is recorded;
// a deny still denies.
func TestApprovedByAgent(t *testing.T) {
	e := newEnv(t, "deny", "") // the approver would refuse: it must not be asked
	cmd := exec.Command(cordonBin, "run", "--approved-by", "claude-code", "--", "touch", "approved")
	cmd.Dir = e.ws
	cmd.Env = []string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin"}
	if out, err := cmd.CombinedOutput(); err != nil || !exists(filepath.Join(e.ws, "approved")) {
		t.Fatalf("--approved-by did not run the asked command: %v %s", err, out)
	}
	if !e.auditHas("approval", `"channel":"agent"`) || !e.auditHas("approval", "claude-code") {
		t.Errorf("the agent's approval is not in the audit trail")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(e.home), "asked.json")); err == nil {
		t.Errorf("the approver was asked although the agent's prompt had approved")
	}
	os.WriteFile(filepath.Join(e.ws, "keep"), []byte("x"), 0o644)
	cmd = exec.Command(cordonBin, "run", "--approved-by", "claude-code", "--", "rm", "keep")
	cmd.Dir = e.ws
	cmd.Env = []string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin"}
	cmd.Run()
	if !exists(filepath.Join(e.ws, "keep")) {
		t.Errorf("--approved-by let a denied command run")
	}
}

// credentialEnv is a home whose policy scopes DEMO_TOKEN to the program
// use-token (on PATH), with decision; the approver answers answer.
func credentialEnv(t *testing.T, decision, answer string) (*env, string) {
	e := newEnv(t, answer, fmt.Sprintf(`
[[credentials]]
name = "demo"
env = "DEMO_TOKEN"
from_env = "DEMO_TOKEN"
commands = [["use-token"]]
decision = %q
reason = "use-token talks to the demo service"
`, decision))
	bin := filepath.Join(filepath.Dir(e.home), "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "use-token"), []byte("#!/bin/sh\nprintf '%s' \"$DEMO_TOKEN\" > got-token\nenv > got-env\n"), 0o755)
	return e, bin
}

func (e *env) runWith(path string, extraEnv []string, argv ...string) (string, int) {
	cmd := exec.Command(cordonBin, append([]string{"run", "--"}, argv...)...)
	cmd.Dir = e.ws
	cmd.Env = append([]string{"HOME=" + e.home, "PATH=" + path + ":/usr/local/bin:/usr/bin:/bin"}, extraEnv...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return string(out), code
}

// TestCredentialScopes: a credential reaches only the commands its scope
// names, after approval when it asks; it never reaches another command.
func TestCredentialScopes(t *testing.T) {
	const secret = "cordon-demo-secret-1234567890"
	// Allowed outright: use-token gets it; another command does not.
	e, bin := credentialEnv(t, "allow", "deny")
	if out, code := e.runWith(bin, []string{"DEMO_TOKEN=" + secret}, "use-token"); code != 0 {
		t.Fatalf("use-token: exit %d: %s", code, out)
	}
	if got, _ := os.ReadFile(filepath.Join(e.ws, "got-token")); string(got) != secret {
		t.Fatalf("the scoped command got %q, want the secret", got)
	}
	os.Remove(filepath.Join(e.ws, "got-env"))
	e.runWith(bin, []string{"DEMO_TOKEN=" + secret}, "sh", "-c", "env > got-env")
	if got, _ := os.ReadFile(filepath.Join(e.ws, "got-env")); strings.Contains(string(got), secret) {
		t.Fatalf("a command outside the scope got the secret")
	}
	if !e.auditHas("decision", `"subject":"credential"`) {
		t.Errorf("the hand-over is not in the audit trail")
	}
	b, _ := os.ReadFile(filepath.Join(e.home, ".local", "state", "cordon", "audit.jsonl"))
	if strings.Contains(string(b), secret) {
		t.Errorf("the secret's value is in the audit trail")
	}

	// Asked and refused: the command does not run.
	e, bin = credentialEnv(t, "ask", "deny")
	out, code := e.runWith(bin, []string{"DEMO_TOKEN=" + secret}, "use-token")
	if code != 126 || exists(filepath.Join(e.ws, "got-token")) {
		t.Fatalf("refused credential: exit %d, ran anyway: %v: %s", code, exists(filepath.Join(e.ws, "got-token")), out)
	}

	// Asked and approved.
	e, bin = credentialEnv(t, "ask", "allow")
	if out, code := e.runWith(bin, []string{"DEMO_TOKEN=" + secret}, "use-token"); code != 0 {
		t.Fatalf("approved credential: exit %d: %s", code, out)
	}
	if got, _ := os.ReadFile(filepath.Join(e.ws, "got-token")); string(got) != secret {
		t.Fatalf("the approved command got %q", got)
	}
}

// TestCredentialFileMasked: a file a credential is read from is unreadable
// inside the sandbox, wherever it lives.
func TestCredentialFileMasked(t *testing.T) {
	const secret = "cordon-file-secret-1234567890"
	root, _ := os.MkdirTemp("/var/tmp", "cordon-credfile-")
	defer os.RemoveAll(root)
	file := filepath.Join(root, "token")
	os.WriteFile(file, []byte(secret+"\n"), 0o600)
	e := newEnv(t, "deny", fmt.Sprintf("\n[[credentials]]\nname = \"filed\"\nenv = \"FILED_TOKEN\"\nfrom_file = %q\ncommands = [[\"use-token\"]]\ndecision = \"allow\"\n", file))
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), secret) {
		t.Fatalf("the baseline cannot read the file, so the probe proves nothing")
	}
	out, code := e.runWith("", nil, "cat", file)
	if strings.Contains(out, secret) {
		t.Fatalf("the sandbox read the credential file: %s", out)
	}
	if code == 126 || !strings.Contains(out, "Permission denied") {
		t.Fatalf("cat did not run into the mask (exit %d): %s", code, out)
	}
}
