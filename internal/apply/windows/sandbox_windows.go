package windows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/windows"

	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

// Sandbox is a prepared sandbox: ACLs reconciled, token built. Run commands
// in it, then Close it.
type Sandbox struct {
	plan    *winplan.Plan
	token   windows.Token
	desktop winplan.DesktopSpec
	hdesk   uintptr
	facts   []winplan.Fact
	stats   winplan.ReconcileStats
	// stateDir holds the setup ledger the elevated mode reads the
	// account's password from; closed is set by Close.
	stateDir string
	closed   bool

	// withoutJob is set only by tests, to show what the job prevents.
	withoutJob bool
}

// Prepare decides the plan for in, scans for Everyone-writable directories,
// brings the ACLs in line (writing only what is missing, each change in the
// ledger first) and builds the restricted token. The state directory stays
// locked meanwhile, so concurrent cordon processes do not interleave their
// DACL changes.
func Prepare(ctx context.Context, in winplan.Input) (*Sandbox, error) {
	if underWine() && !acceptWine {
		return nil, errWine
	}
	caller, err := openCallerToken()
	if err != nil {
		return nil, err
	}
	defer caller.Close()
	elevated, typ, err := elevation(caller)
	if err != nil {
		return nil, err
	}
	// Wine gives every program an elevated administrator token; this
	// package's tests run the launch path there anyway (see wine_windows.go)
	// and check the refusal itself in TestElevatedCallerRefused.
	// In the elevated mode the command's token is the sandbox account's,
	// not derived from cordon's, so an elevated cordon gives it nothing.
	if err := winplan.CheckCaller(elevated, typ); err != nil && in.Sandbox == nil && !(acceptWine && underWine()) {
		return nil, err
	}
	if in.Sandbox != nil && in.Runner == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding cordon's executable, which the sandbox account runs as the runner: %w", err)
		}
		in.Runner = exe
	}
	logon, user, err := callerSIDs(caller)
	if err != nil {
		return nil, err
	}

	fs := fileSystem()
	if in.TempRoot != "" {
		// The workspace's private temp root: made once, stamped as a
		// writable root, reused by every run.
		if err := os.MkdirAll(in.TempRoot, 0o700); err != nil {
			return nil, fmt.Errorf("creating the private temp root: %w", err)
		}
	}
	state, err := winplan.OpenState(ctx, in.StateDir)
	if err != nil {
		return nil, err
	}
	defer state.Close()
	plan, err := winplan.Build(in, fs, state, winplan.Identity{User: user, Logon: logon})
	if err != nil {
		return nil, err
	}
	var skip []string
	for _, r := range plan.Roots {
		skip = append(skip, r.Path)
	}
	// The scan is reused for ScanCacheTTL: it cost up to its whole budget
	// before every command.
	places, scanSIDs := winplan.ScanPlaces(scanEnv(plan.Workspace)), plan.ScanSIDs()
	scan, cached := winplan.CachedScanFor(state.Scans(), places, scanSIDs, time.Now())
	if !cached {
		scan = winplan.Scan(fs, places, skip, scanSIDs, winplan.DefaultScanLimits, time.Now)
		// A cache only: a failure to save it costs the next run a scan.
		_ = state.SaveScans(winplan.WithScan(state.Scans(), places, scanSIDs, time.Now(), scan))
	}
	if in.DenyWorldWritable {
		plan.AddWorldWritableDenies(scan.Writable)
	}
	stats, err := winplan.Reconcile(fs, fs, state, &plan.ACL, time.Now)
	if err != nil {
		return nil, fmt.Errorf("setting up the sandbox's ACLs: %w", err)
	}
	if err := state.Close(); err != nil {
		return nil, fmt.Errorf("unlocking cordon's state directory: %w", err)
	}
	if plan.Elevated != nil {
		// The runner builds the token and the desktop, as the sandbox
		// account; the password is read when a command starts.
		if _, err := accountPassword(in.StateDir, *plan.Elevated); err != nil {
			return nil, err
		}
		return &Sandbox{plan: plan, facts: plan.Facts(&scan, &stats), stats: stats, stateDir: in.StateDir}, nil
	}

	instance, err := winplan.NewInstanceSID()
	if err != nil {
		return nil, err
	}
	spec, err := winplan.NewTokenSpec(plan.CapabilitySIDs(), instance, logon, user)
	if err != nil {
		return nil, err
	}
	token, err := restrictedToken(caller, spec)
	if err != nil {
		return nil, fmt.Errorf("building the sandbox token: %w", err)
	}
	desktop, err := winplan.NewDesktopSpec(instance, user)
	if err != nil {
		token.Close()
		return nil, err
	}
	hdesk, err := createDesktop(desktop)
	if err != nil {
		token.Close()
		return nil, fmt.Errorf("creating the sandbox's desktop: %w", err)
	}
	return &Sandbox{
		plan:    plan,
		token:   token,
		desktop: desktop,
		hdesk:   hdesk,
		facts:   plan.Facts(&scan, &stats),
		stats:   stats,
	}, nil
}

// scanEnv takes the scan's places from cordon's own environment.
func scanEnv(workspace string) winplan.ScanEnv {
	return winplan.ScanEnv{
		Workspace:   workspace,
		Temp:        os.Getenv("TEMP"),
		Tmp:         os.Getenv("TMP"),
		UserProfile: os.Getenv("USERPROFILE"),
		Public:      os.Getenv("PUBLIC"),
		Path:        strings.Split(os.Getenv("PATH"), ";"),
		SystemDrive: os.Getenv("SystemDrive"),
		SystemRoot:  os.Getenv("SystemRoot"),
	}
}

// Facts is what this sandbox enforces, for the enforcement report.
func (s *Sandbox) Facts() []winplan.Fact {
	facts := append([]winplan.Fact(nil), s.facts...)
	facts = append(facts, winplan.ReconcileFacts(s.stats)...)
	return append(facts, winplan.Fact{
		Layer:  "ACL changes",
		Status: winplan.Enforced,
		Detail: fmt.Sprintf("%d ACEs added and %d placeholders created this run; %d ACEs already in place", s.stats.ACEsAdded, len(s.stats.Created), s.stats.ACEsPresent),
	})
}

// Run runs cmd in the sandbox and waits for it. The command and everything
// it starts run in a fresh job object; the job is killed when the command's
// first process exits, when the timeout passes (Result.TimedOut, exit code
// ExitTimeout) and when ctx ends (ctx's error). A command that cannot be
// found gives an error wrapping winplan.ErrNotFound.
func (s *Sandbox) Run(ctx context.Context, cmd Command) (Result, error) {
	if s.closed || (s.token == 0 && s.plan.Elevated == nil) {
		return Result{}, errors.New("the sandbox is closed")
	}
	if len(cmd.Args) == 0 {
		return Result{}, errors.New("no command given")
	}
	dir := cmd.Dir
	if dir == "" {
		dir = s.plan.Workspace
	}
	dir, err := winplan.CleanPath(dir)
	if err != nil {
		return Result{}, fmt.Errorf("working directory: %w", err)
	}
	fs := winFS{}
	app, err := winplan.LookPath(cmd.Args[0], s.plan.Env, dir, func(p string) bool {
		info, err := fs.Lstat(p)
		return err == nil && info.Exists && !info.Dir
	})
	if err != nil {
		return Result{}, err
	}
	env := s.plan.Env
	if s.plan.TempRoot != "" {
		// A temp directory of this command's own, made inside the checked
		// temp root, removed when it ends (what it leaves behind if cordon
		// dies goes with "cordon windows cleanup").
		temp, err := newRunTemp(s.plan.TempRoot)
		if err != nil {
			return Result{}, err
		}
		defer removeTree(temp)
		if env, err = s.plan.CommandEnv(temp); err != nil {
			return Result{}, err
		}
	}
	if s.plan.Elevated != nil {
		return s.runElevated(ctx, cmd, app, dir, env)
	}
	block, err := winplan.EnvBlock(env)
	if err != nil {
		return Result{}, err
	}
	job, err := newJob(s.plan.Job)
	if err != nil {
		return Result{}, fmt.Errorf("creating the command's job object: %w", err)
	}
	// Closing the only handle kills whatever is still in the job, also when
	// this function returns early.
	defer windows.CloseHandle(job)
	p, err := start(s.token, job, s.desktop.StartupDesktop(), app, winplan.CommandLine(cmd.Args), block, dir,
		[3]*os.File{cmd.Stdin, cmd.Stdout, cmd.Stderr}, s.withoutJob)
	if err != nil {
		return Result{}, err
	}
	return p.wait(ctx, s.plan.Timeout)
}

// newRunTemp makes a fresh directory with a random name in root.
func newRunTemp(root string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	dir := filepath.Join(root, "run-"+hex.EncodeToString(b[:]))
	if err := (winFS{}).Create(dir, true, nil); err != nil {
		return "", fmt.Errorf("creating the command's temp directory: %w", err)
	}
	return dir, nil
}

// Close releases the token.
func (s *Sandbox) Close() error {
	s.closed = true
	if s.token == 0 {
		return nil
	}
	err := s.token.Close()
	s.token = 0
	closeDesktop(s.hdesk)
	s.hdesk = 0
	return err
}

// Cleanup revokes every ACE cordon added on this machine and removes the
// placeholders that are still empty, as recorded in the ledger in stateDir,
// then forgets the capability SIDs if nothing remains. Run it when no cordon
// command is running: their writes would start failing.
func Cleanup(ctx context.Context, stateDir string) (winplan.CleanupResult, error) {
	state, err := winplan.OpenState(ctx, stateDir)
	if err != nil {
		return winplan.CleanupResult{}, err
	}
	defer state.Close()
	ledger, err := state.Ledger()
	if err != nil {
		return winplan.CleanupResult{}, err
	}
	fs := fileSystem()
	res, err := winplan.Cleanup(fs, fs, ledger)
	if rerr := state.Reset(res.Remaining); rerr != nil {
		return res, errors.Join(err, fmt.Errorf("updating the ledger: %w", rerr))
	}
	if err == nil && len(res.Remaining.ACEs) == 0 {
		// The private temp roots are cordon's own, and their ACEs are gone.
		if rerr := removeTree(filepath.Join(filepath.Dir(stateDir), "windows-temp")); rerr != nil {
			return res, fmt.Errorf("removing the private temp directories: %w", rerr)
		}
	}
	return res, err
}

// Doctor reports what unelevated mode enforces on this machine: the mode's
// facts, whether a restricted token and a job object can be made here, and
// the Everyone-writable directories around workspace (may be empty).
func Doctor(ctx context.Context, workspace string) ([]winplan.Fact, error) {
	sids := []winplan.SID{winplan.Everyone}
	if caller, err := openCallerToken(); err == nil {
		if logon, _, err := callerSIDs(caller); err == nil {
			sids = append(sids, logon)
		}
		caller.Close()
	}
	scan := winplan.Scan(winFS{}, winplan.ScanPlaces(scanEnv(workspace)), nil, sids, winplan.DefaultScanLimits, time.Now)
	facts := winplan.ModeFacts(&scan)
	if underWine() {
		facts = append(facts, winplan.Fact{Layer: "host", Status: winplan.NotEnforced, Detail: errWine.Error()})
	}
	facts = append(facts, probeCaller(), probeToken(), probeJob())
	return facts, ctx.Err()
}

// probeCaller says whether cordon runs elevated, which Prepare refuses.
func probeCaller() winplan.Fact {
	f := winplan.Fact{Layer: "caller", Status: winplan.Enforced, Detail: "not elevated"}
	caller, err := openCallerToken()
	if err == nil {
		defer caller.Close()
		var elevated bool
		var typ uint32
		if elevated, typ, err = elevation(caller); err == nil {
			err = winplan.CheckCaller(elevated, typ)
		}
	}
	if err != nil {
		f.Status, f.Detail = winplan.NotEnforced, "runs would be refused: "+err.Error()
	}
	return f
}

// probeToken builds and discards a restricted token with a throwaway
// capability SID.
func probeToken() winplan.Fact {
	f := winplan.Fact{Layer: "restricted token", Status: winplan.Enforced}
	err := func() error {
		caller, err := openCallerToken()
		if err != nil {
			return err
		}
		defer caller.Close()
		logon, user, err := callerSIDs(caller)
		if err != nil {
			return err
		}
		sid, err := winplan.NewCapabilitySID()
		if err != nil {
			return err
		}
		instance, err := winplan.NewInstanceSID()
		if err != nil {
			return err
		}
		spec, err := winplan.NewTokenSpec([]winplan.SID{sid}, instance, logon, user)
		if err != nil {
			return err
		}
		t, err := restrictedToken(caller, spec)
		if err != nil {
			return err
		}
		return t.Close()
	}()
	if err != nil {
		f.Status, f.Detail = winplan.NotEnforced, "cannot be built here: "+err.Error()
	} else {
		f.Detail = "CreateRestrictedToken works for this user"
	}
	return f
}

func probeJob() winplan.Fact {
	f := winplan.Fact{Layer: "job object", Status: winplan.Enforced, Detail: "kill-on-close jobs can be created"}
	spec, err := winplan.NewJobSpec(0, 0)
	if err == nil {
		var job windows.Handle
		if job, err = newJob(spec); err == nil {
			windows.CloseHandle(job)
		}
	}
	if err != nil {
		f.Status, f.Detail = winplan.NotEnforced, "cannot be created here: "+err.Error()
	}
	return f
}

// DefaultStateDir is where cordon keeps its Windows state:
// %LOCALAPPDATA%\cordon\windows-sandbox, outside any workspace.
func DefaultStateDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding %%LOCALAPPDATA%%: %w", err)
	}
	return filepath.Join(base, "cordon", "windows-sandbox"), nil
}
