package windows

// The elevated mode's run: cordon starts its own executable as the sandbox
// account (CreateProcessWithLogonW, password from DPAPI), suspended, puts it
// in a kill-on-close job, hands it the request on its standard input, and
// copies the command's output back; the runner (RunnerMain) restricts its
// own token and starts the command as the unelevated path does. The design
// and its reasons are in internal/plan/winplan/runner.go. NOT VERIFIED on Windows: under
// Wine, CreateProcessWithLogonW starts the process as the caller, and no
// token, ACL or job limit is enforced.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

var procCreateProcessWithLogonW = windows.NewLazySystemDLL("advapi32.dll").NewProc("CreateProcessWithLogonW")

const logonWithProfile = 0x1

// Elevated is the elevated mode as the setup left it on this machine.
type Elevated struct {
	Account winplan.SandboxAccount
	// ProxyPorts are the loopback ports the offline account may reach.
	ProxyPorts []int
}

// ElevatedSetup reads the setup ledger in stateDir and checks that the
// setup is complete and its accounts still exist with the SIDs it
// recorded; it returns the account for the policy's network mode. Its error
// wraps winplan.ErrSetupMissing when the setup has not been done.
func ElevatedSetup(stateDir, network string) (*Elevated, error) {
	name, err := winplan.AccountFor(network)
	if err != nil {
		return nil, err
	}
	led, err := loadSetupLedger(stateDir)
	if err != nil {
		return nil, err
	}
	a, _, err := winplan.ElevatedSetupFor(led, name, led != nil && accountsExist(led))
	if err != nil {
		return nil, err
	}
	return &Elevated{Account: a, ProxyPorts: led.ProxyPorts}, nil
}

// accountsExist says whether every account of the ledger is still known to
// the system under the SID the setup recorded.
func accountsExist(led *winplan.SetupLedger) bool {
	if len(led.Accounts) == 0 {
		return false
	}
	for _, a := range led.Accounts {
		sid, _, _, err := windows.LookupSID("", a.Name)
		if err != nil || winplan.SID(sid.String()) != a.SID {
			return false
		}
	}
	return true
}

// loadSetupLedger reads elevated.json; a missing file is a nil ledger.
func loadSetupLedger(stateDir string) (*winplan.SetupLedger, error) {
	data, err := os.ReadFile(filepath.Join(stateDir, setupLedgerFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the setup ledger: %w", err)
	}
	var led winplan.SetupLedger
	if err := json.Unmarshal(data, &led); err != nil {
		return nil, fmt.Errorf("the setup ledger %s is unreadable (%v); run \"cordon windows setup\" again", setupLedgerFile, err)
	}
	return &led, nil
}

// password decrypts the account's password from the setup ledger.
func accountPassword(stateDir string, a winplan.SandboxAccount) (string, error) {
	led, err := loadSetupLedger(stateDir)
	if err != nil {
		return "", err
	}
	_, blob, err := winplan.ElevatedSetupFor(led, a.Name, true)
	if err != nil {
		return "", err
	}
	pw, err := unprotect(blob)
	if err != nil {
		return "", fmt.Errorf("decrypting the password of %s (DPAPI; only the user who ran \"cordon windows setup\" can): %w", a.Name, err)
	}
	return string(pw), nil
}

func unprotect(blob []byte) ([]byte, error) {
	if len(blob) == 0 {
		return nil, errors.New("empty secret")
	}
	in := windows.DataBlob{Size: uint32(len(blob)), Data: &blob[0]}
	var out windows.DataBlob
	if err := windows.CryptUnprotectData(&in, nil, nil, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return nil, fmt.Errorf("CryptUnprotectData: %w", err)
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...), nil
}

// runElevated runs one command through the runner.
func (s *Sandbox) runElevated(ctx context.Context, cmd Command, app, dir string, env []string) (Result, error) {
	instance, err := winplan.NewInstanceSID()
	if err != nil {
		return Result{}, err
	}
	req, err := s.plan.NewRunnerRequest(instance, app, cmd.Args, env, dir)
	if err != nil {
		return Result{}, err
	}
	block, err := winplan.EnvBlock(winplan.RunnerEnv(os.Environ()))
	if err != nil {
		return Result{}, err
	}
	// Three pipes: cordon keeps one end of each, the runner gets the other
	// as its standard handles (duplicated inheritable: CreateProcessWithLogonW
	// takes no handle list).
	type pipe struct{ r, w *os.File }
	var pipes [3]pipe
	for i := range pipes {
		r, w, err := os.Pipe()
		if err != nil {
			return Result{}, err
		}
		pipes[i] = pipe{r, w}
		defer r.Close()
		defer w.Close()
		// os.Pipe's handles are inheritable; cordon's ends must not reach
		// the runner (a second write end of its input would keep the
		// command from ever seeing end of file), so none is, and the
		// runner's ends are inheritable duplicates.
		for _, f := range []*os.File{r, w} {
			if err := windows.SetHandleInformation(windows.Handle(f.Fd()), windows.HANDLE_FLAG_INHERIT, 0); err != nil {
				return Result{}, fmt.Errorf("making cordon's pipe ends private: %w", err)
			}
		}
	}
	ends := [3]*os.File{pipes[0].r, pipes[1].w, pipes[2].w}
	var handles [3]windows.Handle
	for i, f := range ends {
		h, err := inheritable(f, i > 0)
		if err != nil {
			return Result{}, fmt.Errorf("preparing the runner's stdio handle %d: %w", i, err)
		}
		handles[i] = h
	}
	// Closed once: after the runner started (below), or here on failure.
	defer func() {
		for _, h := range handles {
			if h != 0 {
				windows.CloseHandle(h)
			}
		}
	}()
	job, err := newJob(winplan.RunnerJobSpec())
	if err != nil {
		return Result{}, fmt.Errorf("creating the runner's job object: %w", err)
	}
	defer windows.CloseHandle(job)
	pw, err := accountPassword(s.stateDir, *s.plan.Elevated)
	if err != nil {
		return Result{}, err
	}
	p, err := startRunner(s.plan.Elevated.Name, pw, s.plan.Runner, block, dir, handles, job)
	if err != nil {
		return Result{}, err
	}
	// Only the runner may hold its ends now: EOF reaches cordon when it and
	// the command are gone.
	for i, h := range handles {
		windows.CloseHandle(h)
		handles[i] = 0
		ends[i].Close()
	}
	var wg sync.WaitGroup
	stderrTail := &tailBuffer{max: 4096}
	copyOut := func(dst *os.File, src *os.File, tee io.Writer) {
		defer wg.Done()
		var w io.Writer = io.Discard
		if dst != nil {
			w = dst
		}
		if tee != nil {
			w = io.MultiWriter(w, tee)
		}
		io.Copy(w, src)
	}
	wg.Add(2)
	go copyOut(cmd.Stdout, pipes[1].r, nil)
	go copyOut(cmd.Stderr, pipes[2].r, stderrTail)
	if err := winplan.WriteRunnerRequest(pipes[0].w, req); err != nil {
		windows.TerminateJobObject(job, 1)
		return Result{}, err
	}
	if cmd.Stdin != nil {
		go func() {
			io.Copy(pipes[0].w, cmd.Stdin)
			pipes[0].w.Close()
		}()
	} else {
		pipes[0].w.Close()
	}
	res, err := p.wait(ctx, s.plan.Timeout)
	wg.Wait()
	if err != nil {
		return res, err
	}
	if uint32(res.ExitCode) == winplan.RunnerFailed {
		if line := stderrTail.line(winplan.RunnerErrorPrefix); line != "" {
			return res, fmt.Errorf("the runner (as %s) could not start the command: %s", s.plan.Elevated.Name, line)
		}
	}
	return res, nil
}

// startRunner starts exe as the runner, logged on as user with password,
// suspended, puts it in job and resumes it.
func startRunner(user, password, exe string, env []uint16, dir string, stdio [3]windows.Handle, job windows.Handle) (*process, error) {
	si := windows.StartupInfo{
		Flags:     windows.STARTF_USESTDHANDLES,
		StdInput:  stdio[0],
		StdOutput: stdio[1],
		StdErr:    stdio[2],
	}
	si.Cb = uint32(unsafe.Sizeof(si))
	user16, err := windows.UTF16PtrFromString(user)
	if err != nil {
		return nil, err
	}
	pw16, err := windows.UTF16FromString(password)
	if err != nil {
		return nil, err
	}
	// The password does not stay in memory longer than the call.
	defer clear(pw16)
	exe16, err := windows.UTF16PtrFromString(exe)
	if err != nil {
		return nil, err
	}
	cmd16, err := windows.UTF16FromString(winplan.RunnerCommandLine(exe))
	if err != nil {
		return nil, err
	}
	dir16, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return nil, err
	}
	var pi windows.ProcessInformation
	if acceptWine && underWine() {
		// Wine's CreateProcessWithLogonW is a stub that fails (Wine 8), and
		// Wine has one user anyway: the tests start the runner as the
		// caller, with the same flags and handles, so that everything after
		// the logon runs. The logon itself is not exercised.
		err := windows.CreateProcess(exe16, &cmd16[0], nil, nil, true, winplan.RunnerCreationFlags, &env[0], dir16, &si, &pi)
		if err != nil {
			return nil, fmt.Errorf("starting the runner (CreateProcess, under Wine): %w", err)
		}
		return runnerStarted(pi, job)
	}
	r1, _, e1 := procCreateProcessWithLogonW.Call(
		uintptr(unsafe.Pointer(user16)), uintptr(unsafe.Pointer(windows.StringToUTF16Ptr("."))), uintptr(unsafe.Pointer(&pw16[0])),
		logonWithProfile, uintptr(unsafe.Pointer(exe16)), uintptr(unsafe.Pointer(&cmd16[0])),
		uintptr(winplan.RunnerCreationFlags), uintptr(unsafe.Pointer(&env[0])), uintptr(unsafe.Pointer(dir16)),
		uintptr(unsafe.Pointer(&si)), uintptr(unsafe.Pointer(&pi)))
	runtime.KeepAlive(env)
	runtime.KeepAlive(cmd16)
	if r1 == 0 {
		return nil, fmt.Errorf("starting the runner as %s (CreateProcessWithLogonW): %w%s", user, e1, logonHint(e1))
	}
	return runnerStarted(pi, job)
}

// runnerStarted puts the suspended runner in job and lets it run.
func runnerStarted(pi windows.ProcessInformation, job windows.Handle) (*process, error) {
	defer windows.CloseHandle(pi.Thread)
	if err := windows.AssignProcessToJobObject(job, pi.Process); err != nil {
		windows.TerminateProcess(pi.Process, 1)
		windows.CloseHandle(pi.Process)
		return nil, fmt.Errorf("putting the runner in its job object (it never ran): %w", err)
	}
	if _, err := windows.ResumeThread(pi.Thread); err != nil {
		windows.TerminateJobObject(job, 1)
		windows.CloseHandle(pi.Process)
		return nil, fmt.Errorf("ResumeThread: %w", err)
	}
	return &process{job: job, process: pi.Process, pid: pi.ProcessId}, nil
}

// logonHint says what the logon errors Codex's users met mean.
func logonHint(err error) string {
	switch {
	case errors.Is(err, windows.Errno(1385)): // ERROR_LOGON_TYPE_NOT_GRANTED
		return ` (the account lacks "Log on locally" here, as on domain controllers or under a policy that restricts it; run "cordon windows setup" again, or ask your administrator)`
	case errors.Is(err, windows.Errno(1326)), errors.Is(err, windows.Errno(1907)), errors.Is(err, windows.Errno(1330)):
		return ` (the password stored by "cordon windows setup" no longer works, or has expired under a password policy; run "cordon windows setup" again)`
	case errors.Is(err, windows.Errno(1312)):
		return " (a stale logon session; try again)"
	}
	return ""
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

// line returns the text after the last line starting with prefix.
func (t *tailBuffer) line(prefix string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := bytes.Split(t.b, []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if rest, ok := bytes.CutPrefix(lines[i], []byte(prefix)); ok {
			return strings.TrimSpace(string(rest))
		}
	}
	return ""
}

// RunnerMain is "cordon windows runner": run as the sandbox account by
// cordon, it reads the request on its standard input, derives the
// command's token from its own (RunnerTokenSpec: the request's capability
// SIDs and instance SID restricting writes, every logon SID and INTERACTIVE
// disabled), creates the command's desktop and job, starts the command
// with its own three standard handles (the rest of the input pipe is the
// command's), waits and returns the command's exit code, or
// winplan.RunnerFailed with the reason on standard error.
func RunnerMain() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, winplan.RunnerErrorPrefix+err.Error())
		return int(winplan.RunnerFailed)
	}
	if underWine() && !acceptWine {
		return fail(errWine)
	}
	// os.Stdin reads with ReadFile, unbuffered: not a byte past the frame.
	req, err := winplan.ReadRunnerRequest(os.Stdin)
	if err != nil {
		return fail(fmt.Errorf("reading cordon's request: %w", err))
	}
	self, err := openCallerToken()
	if err != nil {
		return fail(err)
	}
	defer self.Close()
	logons, user, err := runnerSIDs(self)
	if err != nil {
		return fail(err)
	}
	spec, err := winplan.RunnerTokenSpec(req.Caps, req.Instance, user, logons[0])
	if err != nil {
		return fail(err)
	}
	spec.DisableSIDs = append(spec.DisableSIDs, logons[1:]...)
	token, err := restrictedToken(self, spec)
	if err != nil {
		return fail(fmt.Errorf("building the command's token: %w", err))
	}
	defer token.Close()
	desktop, err := winplan.NewDesktopSpec(req.Instance, user)
	if err != nil {
		return fail(err)
	}
	hdesk, err := createDesktop(desktop)
	if err != nil {
		return fail(fmt.Errorf("creating the command's desktop: %w", err))
	}
	defer closeDesktop(hdesk)
	job, err := newJob(req.Job)
	if err != nil {
		return fail(fmt.Errorf("creating the command's job object: %w", err))
	}
	defer windows.CloseHandle(job)
	block, err := winplan.EnvBlock(req.Env)
	if err != nil {
		return fail(err)
	}
	p, err := start(token, job, desktop.StartupDesktop(), req.App, req.CommandLine, block, req.Dir,
		[3]*os.File{os.Stdin, os.Stdout, os.Stderr}, false)
	if err != nil {
		return fail(err)
	}
	// No timeout here: cordon keeps the time and ends the runner's job,
	// which holds this one.
	res, err := p.wait(context.Background(), 0)
	if err != nil {
		return fail(err)
	}
	return res.ExitCode
}

// runnerSIDs returns every logon SID of the runner's token (the first is
// the one RunnerTokenSpec takes) and its user.
func runnerSIDs(t windows.Token) ([]winplan.SID, winplan.SID, error) {
	u, err := t.GetTokenUser()
	if err != nil {
		return nil, "", fmt.Errorf("reading the runner's user: %w", err)
	}
	groups, err := t.GetTokenGroups()
	if err != nil {
		return nil, "", fmt.Errorf("reading the runner's groups: %w", err)
	}
	var logons []winplan.SID
	for _, g := range groups.AllGroups() {
		if g.Attributes&windows.SE_GROUP_LOGON_ID == windows.SE_GROUP_LOGON_ID {
			logons = append(logons, winplan.SID(g.Sid.String()))
		}
	}
	if len(logons) == 0 {
		return nil, "", errors.New("the runner's token has no logon SID")
	}
	return logons, winplan.SID(u.User.Sid.String()), nil
}
