package windows

// The elevated mode's calls under Wine. Wine's CreateProcessWithLogonW
// starts the process as the caller whatever the account, and Wine enforces
// no token, ACL or job limit: these tests prove the plumbing (the ledger
// read, the password through DPAPI, the runner started suspended in its
// job, the request frame, the runner's restricted token, desktop and job,
// stdio and exit codes, the kill when cordon dies, setup's calls and undo
// from the ledger), not that the sandbox account is confined. So the
// "sandbox account" here is the test's own user, recorded in a ledger the
// test writes.

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

// fakeSetup writes a setup ledger naming the current user as both sandbox
// accounts, with a DPAPI-protected password, as a finished setup would.
func fakeSetup(stateDir string) error {
	caller, err := openCallerToken()
	if err != nil {
		return err
	}
	defer caller.Close()
	u, err := caller.GetTokenUser()
	if err != nil {
		return err
	}
	name, _, _, err := u.User.Sid.LookupAccount("")
	if err != nil {
		return err
	}
	blob, err := protect([]byte("not-a-password"))
	if err != nil {
		return err
	}
	sid := winplan.SID(u.User.Sid.String())
	led := &winplan.SetupLedger{Version: 1, Group: "S-1-5-21-4242-4242-4242-1000", ProxyPorts: []int{18080},
		Steps: []winplan.SetupStep{{Kind: "group", Name: winplan.SandboxGroup}, {Kind: "user", Name: winplan.OfflineUser}, {Kind: "user", Name: winplan.OnlineUser}},
		Accounts: []winplan.SetupAccount{
			{Name: name, SID: sid, Password: blob},
		}}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return err
	}
	// Both account names resolve to the current user for the test.
	led.Accounts = append(led.Accounts, winplan.SetupAccount{Name: winplan.OfflineUser, SID: sid, Password: blob})
	return saveSetupLedger(stateDir, led, "O:BAD:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;"+string(sid)+")")
}

// elevatedInput is testInput in the elevated mode, as the current user.
func elevatedInput(ws, state string, env []string) winplan.Input {
	in := testInput(ws, state, env)
	led, err := loadSetupLedger(state)
	if err != nil || led == nil {
		panic("no setup ledger: " + errString(err))
	}
	in.Sandbox = &winplan.SandboxAccount{Name: led.Accounts[0].Name, SID: led.Accounts[0].SID, Group: led.Group}
	in.Runner, _ = os.Executable()
	in.DenyRead = []string{filepath.Join(ws, ".env")}
	return in
}

func errString(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

func TestElevatedSetupMissing(t *testing.T) {
	_, state := dirs(t)
	_, err := ElevatedSetup(state, "off")
	if !errors.Is(err, winplan.ErrSetupMissing) || !strings.Contains(err.Error(), "cordon windows setup") || !strings.Contains(err.Error(), "windows-unelevated") {
		t.Fatalf("no setup: %v", err)
	}
}

func TestElevatedRunThroughRunner(t *testing.T) {
	ws, state := dirs(t)
	if err := fakeSetup(state); err != nil {
		t.Fatalf("writing the setup ledger: %v", err)
	}
	if err := os.WriteFile(filepath.Join(ws, ".env"), []byte("SECRET=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := elevatedInput(ws, state, append(baseEnv(), modeEnv+"=cat"))
	sb := prepare(t, in)
	if sb.plan.Elevated == nil || sb.token != 0 {
		t.Fatalf("Prepare did not plan the elevated mode (token %v)", sb.token)
	}
	stdin := filepath.Join(ws, "stdin.txt")
	if err := os.WriteFile(stdin, []byte("hello from cordon"), 0o644); err != nil {
		t.Fatal(err)
	}
	inF, err := os.Open(stdin)
	if err != nil {
		t.Fatal(err)
	}
	defer inF.Close()
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	res, err := sb.Run(context.Background(), Command{Args: []string{os.Args[0]}, Stdin: inF, Stdout: outW, Stderr: errW})
	outW.Close()
	errW.Close()
	out, _ := io.ReadAll(outR)
	errOut, _ := io.ReadAll(errR)
	if err != nil {
		t.Fatalf("Run: %v (stderr %q)", err, errOut)
	}
	if res.ExitCode != 7 || string(out) != "out:hello from cordon" || !strings.Contains(string(errOut), "err-line") {
		t.Fatalf("through the runner: %+v, stdout %q, stderr %q; want exit 7, the input echoed, the error line", res, out, errOut)
	}
	// Exit codes pass through, and a missing command is cordon's error.
	for _, code := range []int{0, 255} {
		res, err := sb.Run(context.Background(), Command{Args: []string{"cmd.exe", "/c", "exit " + strconv.Itoa(code)}})
		if err != nil || res.ExitCode != code {
			t.Fatalf("exit %d through the runner: %+v, %v", code, res, err)
		}
	}
	// The plan stamped the sandbox group's ACEs, deny-read included (Wine
	// keeps no DACL: this is what cordon wrote and read back in-process).
	var reasons []string
	for _, g := range sb.plan.ACL.Grants {
		reasons = append(reasons, g.Reason)
	}
	for _, want := range []string{winplan.ReasonSandboxRoot, winplan.ReasonDenyRead, winplan.ReasonSandboxRunner} {
		if !strings.Contains(strings.Join(reasons, "|"), want) {
			t.Errorf("no %q grant in %v", want, reasons)
		}
	}
	// A timeout ends the runner's job, and everything below it.
	sb.plan.Timeout = 300 * time.Millisecond
	res, err = sb.Run(context.Background(), Command{Args: []string{"cmd.exe", "/c", "ping -n 30 127.0.0.1 >NUL"}})
	if err != nil || !res.TimedOut || res.ExitCode != ExitTimeout {
		t.Fatalf("timeout through the runner: %+v, %v", res, err)
	}
}

// The runner refuses what cordon would not send, with its own exit code and
// a line that cordon turns into an error.
func TestRunnerRefusesBadRequest(t *testing.T) {
	c := exec.Command(os.Args[0], winplan.RunnerArgs...)
	c.Stdin = strings.NewReader("\x05\x00\x00\x00{bad}")
	var stderr strings.Builder
	c.Stderr = &stderr
	err := c.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || uint32(ee.ExitCode()) != winplan.RunnerFailed || !strings.HasPrefix(stderr.String(), winplan.RunnerErrorPrefix) {
		t.Fatalf("bad request: %v, stderr %q; want exit %#x and a %q line", err, stderr.String(), winplan.RunnerFailed, winplan.RunnerErrorPrefix)
	}
}

// When cordon dies, its handle to the runner's job closes and the runner
// and the command die with it.
func TestElevatedSupervisorDeathEndsTheJob(t *testing.T) {
	ws, state := dirs(t)
	if err := fakeSetup(state); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(tempDir(t), "pid")
	sup := exec.Command(os.Args[0])
	sup.Env = append(os.Environ(), modeEnv+"=elevated-supervisor", wsEnv+"="+ws, stateEnv+"="+state, pidFileEnv+"="+pidFile)
	var stderr strings.Builder
	sup.Stderr = &stderr
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	failed := make(chan struct{})
	go func() { sup.Wait(); close(failed) }()
	pid := waitPID(t, pidFile, failed)
	if pid == 0 {
		t.Fatalf("the sleeper never ran: %s", stderr.String())
	}
	if !alive(t, pid, 0) {
		t.Fatalf("the sleeper %d is not running", pid)
	}
	sup.Process.Kill()
	<-failed
	if alive(t, pid, 10*time.Second) {
		kill(pid)
		t.Fatalf("the command %d outlived cordon", pid)
	}
}

// Setup's calls and undo from the ledger. Under Wine the account calls are
// stubs, so the setup stops where Wine does; what it recorded before each
// step is then undone, and the ledger goes.
func TestSetupAndUndoFromLedger(t *testing.T) {
	_, state := dirs(t)
	secret := filepath.Join(tempDir(t), "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	led, err := Setup(context.Background(), state, winplan.SetupInput{ProxyPorts: []int{18080}, Secrets: []string{secret}})
	t.Logf("setup: %d steps recorded, error: %v", stepsOf(led), err)
	if led == nil || len(led.Steps) == 0 || led.Steps[0].Kind != "group" {
		t.Fatalf("setup recorded nothing before its first change: %+v, %v", led, err)
	}
	if _, serr := os.Stat(filepath.Join(state, setupLedgerFile)); serr != nil {
		t.Fatalf("no setup ledger on disk: %v", serr)
	}
	if err := Undo(context.Background(), state); err != nil {
		t.Logf("undo: %v", err)
		if _, serr := os.Stat(filepath.Join(state, setupLedgerFile)); serr != nil {
			t.Fatalf("undo failed (%v) and dropped the ledger", err)
		}
		return
	}
	if _, serr := os.Stat(filepath.Join(state, setupLedgerFile)); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("the ledger is still there after undo: %v", serr)
	}
}

func stepsOf(led *winplan.SetupLedger) int {
	if led == nil {
		return 0
	}
	return len(led.Steps)
}
