package windows

// These tests run the real launch path. In CI they run under Wine
// (scripts/wine/run.sh), which executes the calls but enforces no token,
// ACL or job restriction, so they prove the plumbing (token construction,
// suspended start, job assignment, exit codes, timeouts, kill on close), not
// the security. The test binary doubles as the commands it runs: see
// TestMain.

import (
	"context"
	"errors"
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

	"golang.org/x/sys/windows"

	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

// Helper modes of the test binary, chosen by CORDON_WINTEST_MODE.
const (
	modeEnv    = "CORDON_WINTEST_MODE"
	pidFileEnv = "CORDON_WINTEST_PIDFILE"
	noJobEnv   = "CORDON_WINTEST_NOJOB"
	stateEnv   = "CORDON_WINTEST_STATE"
	wsEnv      = "CORDON_WINTEST_WORKSPACE"
)

func TestMain(m *testing.M) {
	// Under Wine, run the launch path anyway; see wine_windows.go.
	acceptWine = true
	if slices.Equal(os.Args[1:], winplan.RunnerArgs) {
		// Started as the elevated mode's runner (runner_windows_test.go).
		os.Exit(RunnerMain())
	}
	switch os.Getenv(modeEnv) {
	case "":
		os.Exit(m.Run())
	case "cat":
		// Echo standard input to standard output, a line to standard
		// error, and exit 7.
		data, _ := io.ReadAll(os.Stdin)
		fmt.Printf("out:%s", data)
		fmt.Fprintln(os.Stderr, "err-line")
		os.Exit(7)
	case "elevated-supervisor":
		// Play cordon in the elevated mode: run a sleeper through the
		// runner and wait forever; the test kills us.
		in := elevatedInput(os.Getenv(wsEnv), os.Getenv(stateEnv), sleeperEnv(os.Getenv(pidFileEnv)))
		sb, err := Prepare(context.Background(), in)
		if err != nil {
			fmt.Fprintln(os.Stderr, "supervisor:", err)
			os.Exit(3)
		}
		_, err = sb.Run(context.Background(), Command{Args: []string{os.Args[0]}})
		fmt.Fprintln(os.Stderr, "supervisor: run returned:", err)
		os.Exit(4)
	case "sleep":
		// A process that would outlive its parent: write our PID, then wait.
		writePID(os.Getenv(pidFileEnv))
		time.Sleep(5 * time.Minute)
		os.Exit(0)
	case "fork":
		// Start a sleeper, wait until it runs, and exit, leaving it behind.
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), modeEnv+"=sleep")
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "fork:", err)
			os.Exit(3)
		}
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(os.Getenv(pidFileEnv)); err == nil {
				os.Exit(0)
			}
		}
		fmt.Fprintln(os.Stderr, "fork: the sleeper never wrote its PID")
		os.Exit(3)
	case "supervisor":
		// Play cordon: run a sleeper in the sandbox and wait forever; the
		// test kills us.
		sb, err := Prepare(context.Background(), testInput(os.Getenv(wsEnv), os.Getenv(stateEnv), sleeperEnv(os.Getenv(pidFileEnv))))
		if err != nil {
			fmt.Fprintln(os.Stderr, "supervisor:", err)
			os.Exit(3)
		}
		sb.withoutJob = os.Getenv(noJobEnv) != ""
		_, err = sb.Run(context.Background(), Command{Args: []string{os.Args[0]}})
		fmt.Fprintln(os.Stderr, "supervisor: run returned:", err)
		os.Exit(4)
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Getenv(modeEnv))
		os.Exit(2)
	}
}

func writePID(path string) {
	if path == "" {
		return
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())), 0o644); err == nil {
		os.Rename(tmp, path)
	}
}

// baseEnv is the small environment the sandboxed commands get.
func baseEnv() []string {
	var env []string
	for _, name := range []string{"SystemRoot", "SystemDrive", "windir", "ComSpec", "PATH", "PATHEXT", "TEMP", "TMP", "USERPROFILE", "WINEPREFIX"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

func sleeperEnv(pidFile string) []string {
	return append(baseEnv(), modeEnv+"=sleep", pidFileEnv+"="+pidFile)
}

func testInput(workspace, stateDir string, env []string) winplan.Input {
	return winplan.Input{
		Workspace: workspace,
		ProtectedPaths: []winplan.ProtectedPath{
			{Path: filepath.Join(workspace, ".git", "hooks"), Dir: true},
			{Path: filepath.Join(workspace, ".mcp.json")},
		},
		Env:        env,
		HostEnv:    os.Environ(),
		TempRoot:   mustTempRoot(stateDir, workspace),
		StateDir:   stateDir,
		ProfileDir: os.Getenv("USERPROFILE"),
	}
}

func mustTempRoot(stateDir, workspace string) string {
	r, err := winplan.TempRootFor(stateDir, workspace)
	if err != nil {
		panic(err)
	}
	return r
}

// tempDir is t.TempDir without its strict cleanup: Go's RemoveAll uses a
// deletion call Wine does not implement, so a leftover is logged, not failed.
func tempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "cordon-wintest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(d); err != nil {
			t.Logf("leaving %s: %v", d, err)
		}
	})
	return d
}

// dirs makes a workspace and a state directory beside it (never inside).
func dirs(t *testing.T) (workspace, stateDir string) {
	base := tempDir(t)
	workspace, stateDir = filepath.Join(base, "ws"), filepath.Join(base, "state")
	if err := os.Mkdir(workspace, 0o755); err != nil {
		t.Fatal(err)
	}
	return workspace, stateDir
}

func prepare(t *testing.T, in winplan.Input) *Sandbox {
	t.Helper()
	sb, err := Prepare(context.Background(), in)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

func TestRestrictedToken(t *testing.T) {
	caller, err := openCallerToken()
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	logon, user, err := callerSIDs(caller)
	if err != nil {
		t.Fatal(err)
	}
	if !winplan.IsLogonSID(logon) {
		t.Fatalf("logon SID %s", logon)
	}
	capSID, err := winplan.NewCapabilitySID()
	if err != nil {
		t.Fatal(err)
	}
	instance, err := winplan.NewInstanceSID()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := winplan.NewTokenSpec([]winplan.SID{capSID}, instance, logon, user)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := restrictedToken(caller, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	got, err := restrictingSIDs(tok)
	if errors.Is(err, windows.ERROR_INVALID_FUNCTION) && underWine() {
		t.Logf("Wine cannot report restricting SIDs (%v); the token was built, its contents are unchecked", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, spec.RestrictingSIDs) {
		t.Fatalf("restricting SIDs read back = %v, want %v", got, spec.RestrictingSIDs)
	}
	if slices.Contains(got, user) {
		t.Fatalf("the user's SID %s is a restricting SID", user)
	}
	// The caller's own token carries none: the check can tell.
	if own, err := restrictingSIDs(caller); err == nil && len(own) != 0 {
		t.Fatalf("the unrestricted caller token reads back restricting SIDs %v", own)
	}
}

// TestElevatedCallerRefused: the elevation of cordon's own token is read
// and an elevated caller refused. Wine runs everything elevated, so there
// the refusal must happen; on a Windows host the test runs as a standard
// user (or a filtered administrator) and must pass the check.
func TestElevatedCallerRefused(t *testing.T) {
	caller, err := openCallerToken()
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	elevated, typ, err := elevation(caller)
	if err != nil {
		t.Fatal(err)
	}
	err = winplan.CheckCaller(elevated, typ)
	t.Logf("elevated=%t type=%d: %v", elevated, typ, err)
	if underWine() && !errors.Is(err, winplan.ErrElevated) {
		t.Fatalf("under Wine (always elevated) CheckCaller = %v, want the refusal", err)
	}
	if !underWine() && err != nil {
		t.Fatalf("run these tests from a non-elevated prompt: %v", err)
	}
}

// TestPrepareRefusesWine: outside this package's tests, cordon will not
// pretend to sandbox under Wine; on Windows the same call works.
func TestPrepareRefusesWine(t *testing.T) {
	ws, state := dirs(t)
	acceptWine = false
	defer func() { acceptWine = true }()
	sb, err := Prepare(context.Background(), testInput(ws, state, baseEnv()))
	if underWine() {
		if !errors.Is(err, errWine) {
			t.Fatalf("Prepare under Wine = %v, want the Wine refusal", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Prepare on Windows: %v", err)
	}
	sb.Close()
}

func TestRunExitCodeAndState(t *testing.T) {
	ws, state := dirs(t)
	sb := prepare(t, testInput(ws, state, baseEnv()))
	for _, code := range []int{0, 7, 255} {
		res, err := sb.Run(context.Background(), Command{Args: []string{"cmd.exe", "/c", fmt.Sprintf("exit %d", code)}})
		if err != nil {
			t.Fatalf("Run exit %d: %v", code, err)
		}
		if res.ExitCode != code || res.TimedOut {
			t.Fatalf("exit %d: got %+v", code, res)
		}
	}

	// Output reaches the handle given, and nothing else is inherited.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	res, err := sb.Run(context.Background(), Command{Args: []string{"cmd.exe", "/c", "echo cordon-out"}, Stdout: w})
	w.Close()
	out, _ := io.ReadAll(r)
	if err != nil || res.ExitCode != 0 || !strings.Contains(string(out), "cordon-out") {
		t.Fatalf("echo: %+v, %v, output %q", res, err, out)
	}

	// A missing command is reported as such.
	if _, err := sb.Run(context.Background(), Command{Args: []string{"no-such-program"}}); !errors.Is(err, winplan.ErrNotFound) {
		t.Fatalf("missing command: %v", err)
	}

	// The SID store holds the workspace's SID, outside the workspace, and
	// the placeholders exist.
	st, err := winplan.OpenState(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	roots, err := st.StoredRoots()
	if err != nil || len(roots) != 2 || roots[0].SID != sb.plan.Roots[0].SID || roots[1].Path != sb.plan.TempRoot {
		t.Fatalf("stored roots = %+v (%v), want the workspace's SID %s and the temp root %s", roots, err, sb.plan.Roots[0].SID, sb.plan.TempRoot)
	}

	// The command's TEMP is a directory of its own below the temp root.
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	res, err = sb.Run(context.Background(), Command{Args: []string{"cmd.exe", "/c", "echo %TEMP%& echo %SystemRoot%"}, Stdout: w2})
	w2.Close()
	out, _ = io.ReadAll(r2)
	lines := strings.Fields(string(out))
	if err != nil || res.ExitCode != 0 || len(lines) != 2 || !strings.HasPrefix(strings.ToLower(lines[0]), strings.ToLower(sb.plan.TempRoot+`\run-`)) || lines[1] == "%SystemRoot%" {
		t.Fatalf("TEMP and SystemRoot in the command: %q (%+v, %v), want TEMP below %s", out, res, err, sb.plan.TempRoot)
	}
	if left, err := os.ReadDir(sb.plan.TempRoot); err != nil || len(left) != 0 {
		t.Fatalf("the temp root holds %v after the commands ended (%v), want nothing", left, err)
	}
	for _, p := range []string{filepath.Join(ws, ".git", "hooks"), filepath.Join(ws, ".mcp.json")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("placeholder %s: %v", p, err)
		}
	}
}

// waitPID reads the PID a sleeper wrote, giving up when failed is closed
// (whoever should start the sleeper has ended) or after a minute.
func waitPID(t *testing.T, path string, failed <-chan struct{}) uint32 {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		if data, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(string(data)); err == nil {
				return uint32(pid)
			}
		}
		select {
		case <-failed:
			t.Fatalf("no PID in %s, and the process that should start it has ended", path)
		case <-deadline:
			t.Fatalf("no PID in %s after a minute", path)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// alive reports whether pid still runs after waiting up to grace for it to
// end.
func alive(t *testing.T, pid uint32, grace time.Duration) bool {
	t.Helper()
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return false // gone
	}
	defer windows.CloseHandle(h)
	ev, err := windows.WaitForSingleObject(h, uint32(grace.Milliseconds()))
	if err != nil {
		t.Fatalf("waiting for %d: %v", pid, err)
	}
	return ev == uint32(windows.WAIT_TIMEOUT)
}

func kill(pid uint32) {
	if h, err := windows.OpenProcess(windows.PROCESS_TERMINATE, false, pid); err == nil {
		windows.TerminateProcess(h, 1)
		windows.CloseHandle(h)
	}
}

func TestRunTimeoutEndsTheJob(t *testing.T) {
	ws, state := dirs(t)
	pidFile := filepath.Join(ws, "sleeper.pid")
	in := testInput(ws, state, sleeperEnv(pidFile))
	in.Timeout = 3 * time.Second
	sb := prepare(t, in)
	// cmd.exe starts the sleeper and waits: two processes in the job.
	res, err := sb.Run(context.Background(), Command{Args: []string{"cmd.exe", "/c", os.Args[0]}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.TimedOut || res.ExitCode != ExitTimeout {
		t.Fatalf("result %+v, want a timeout with exit code %d", res, ExitTimeout)
	}
	pid := waitPID(t, pidFile, nil)
	if alive(t, pid, 20*time.Second) {
		kill(pid)
		t.Fatalf("the sleeper (pid %d) survived the timeout", pid)
	}
}

// TestRunLeavesNothingBehind: the command exits at once after starting a
// sleeper; the sleeper must not outlive it. Run without the job, the same
// sleeper survives: the test can see an escape.
func TestRunLeavesNothingBehind(t *testing.T) {
	for _, withoutJob := range []bool{false, true} {
		t.Run(fmt.Sprintf("withoutJob=%t", withoutJob), func(t *testing.T) {
			ws, state := dirs(t)
			pidFile := filepath.Join(ws, "sleeper.pid")
			env := append(baseEnv(), modeEnv+"=fork", pidFileEnv+"="+pidFile)
			sb := prepare(t, testInput(ws, state, env))
			sb.withoutJob = withoutJob
			res, err := sb.Run(context.Background(), Command{Args: []string{os.Args[0]}})
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("Run: %+v, %v", res, err)
			}
			pid := waitPID(t, pidFile, nil)
			survived := alive(t, pid, 5*time.Second)
			if survived {
				kill(pid)
			}
			if survived != withoutJob {
				t.Fatalf("sleeper survived: %t, want %t", survived, withoutJob)
			}
		})
	}
}

// TestSupervisorDeathEndsTheJob: when cordon itself is killed, the job's
// only handle closes and KILL_ON_JOB_CLOSE ends the command. Without the
// job, the command survives its killed supervisor.
func TestSupervisorDeathEndsTheJob(t *testing.T) {
	for _, withoutJob := range []bool{false, true} {
		t.Run(fmt.Sprintf("withoutJob=%t", withoutJob), func(t *testing.T) {
			ws, state := dirs(t)
			pidFile := filepath.Join(ws, "sleeper.pid")
			sup := exec.Command(os.Args[0])
			sup.Env = append(os.Environ(), modeEnv+"=supervisor", wsEnv+"="+ws, stateEnv+"="+state, pidFileEnv+"="+pidFile)
			if withoutJob {
				sup.Env = append(sup.Env, noJobEnv+"=1")
			}
			var stderr strings.Builder
			sup.Stderr = &stderr
			if err := sup.Start(); err != nil {
				t.Fatal(err)
			}
			supDone := make(chan struct{})
			go func() { sup.Wait(); close(supDone) }()
			defer func() {
				if t.Failed() {
					t.Logf("supervisor stderr: %s", stderr.String())
				}
			}()
			pid := waitPID(t, pidFile, supDone)
			if err := sup.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-supDone
			survived := alive(t, pid, 10*time.Second)
			if survived {
				kill(pid)
			}
			if survived != withoutJob {
				t.Fatalf("sleeper survived its supervisor: %t, want %t (supervisor said %q)", survived, withoutJob, stderr.String())
			}
		})
	}
}

func TestCleanupRemovesWhatPrepareAdded(t *testing.T) {
	ws, state := dirs(t)
	sb := prepare(t, testInput(ws, state, baseEnv()))
	sb.Close()
	st, err := winplan.OpenState(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.Ledger()
	st.Close()
	if err != nil || len(l.ACEs) == 0 || len(l.Placeholders) == 0 {
		t.Fatalf("ledger after Prepare: %+v, %v", l, err)
	}
	res, err := Cleanup(context.Background(), state)
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if len(res.Remaining.ACEs) != 0 || len(res.Removed) != len(l.Placeholders) {
		t.Fatalf("cleanup result %+v", res)
	}
	for _, p := range l.Placeholders {
		if _, err := os.Lstat(p.Path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("placeholder %s still there: %v", p.Path, err)
		}
	}
	// Every ACE for the workspace SID is gone from the workspace's DACL.
	d, err := winFS{}.ReadDACL(winplan.Object{Path: ws})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range d.ACEs {
		if a.SID == sb.plan.Roots[0].SID {
			t.Fatalf("ACE %s left on the workspace", a)
		}
	}
}

func TestDoctorSaysUnverified(t *testing.T) {
	facts, err := Doctor(context.Background(), tempDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, f := range facts {
		text = append(text, f.String())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"not yet verified on a real Windows host", "network: advisory", "restricted token: enforced", "job object: enforced"} {
		if !strings.Contains(all, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, all)
		}
	}
}
