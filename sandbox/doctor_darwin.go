package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	applydarwin "github.com/cordon-sandbox/cordon/internal/apply/darwin"
	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
	"github.com/cordon-sandbox/cordon/policy"
)

// Doctor examines this Mac: what the macOS backend enforces here, and
// whether a probe command runs in it. Every claim is by design only: the
// backend has not been verified on a real Mac by cordon's tests.
func Doctor(home string) *Diagnosis {
	d := &Diagnosis{System: fmt.Sprintf("macos %s %s", applydarwin.SystemVersion(), runtime.GOARCH)}
	d.Facts = append(d.Facts, Fact{Name: "verification", Detail: "cordon's macOS backend has " + macplan.Unverified + " by this project's tests: what follows is what the design enforces",
		Fix: "run scripts/macos/verify.sh from a checkout of cordon on this Mac; it runs the escape probes under cordon run and prints how many passed (docs/macos.md)"})
	se := Fact{Name: "sandbox-exec", OK: true, Detail: macplan.SandboxExec + " is present; profiles are generated SBPL, deny by default (" + macplan.Unverified + ")"}
	if err := applydarwin.CheckSandboxExec(); err != nil {
		se = Fact{Name: "sandbox-exec", Detail: err.Error(), Fix: "sandbox-exec ships with macOS; a system without it cannot run cordon's sandbox"}
	}
	d.Facts = append(d.Facts, se,
		Fact{Name: "filesystem", OK: se.OK, Detail: "reads everywhere but secrets; writes only in the writable roots and a private TMPDIR; protected paths, absent ones too, stay read-only (" + macplan.Unverified + ")"},
		Fact{Name: "network", OK: se.OK, Detail: "none, or only cordon's proxy on loopback with a per-run secret; trustd, needed for TLS verification in proxy mode, may fetch certificate URLs past the proxy (" + macplan.Unverified + ")"},
		Fact{Name: "services", OK: se.OK, Detail: "keychain, pasteboard, AppleEvents, accessibility, LaunchServices and launchd jobs refused; the allowed Mach services are listed in docs/macos.md (" + macplan.Unverified + ")"},
		Fact{Name: "processes", Detail: "no PID namespace: a watcher outside the sandbox kills the run's session and every descendant it saw, at the end and when cordon dies; a process that calls setsid and is orphaned between two looks survives (inside the sandbox, its proxy closed)"},
		Fact{Name: "terminal", OK: os.Getuid() != 0, Detail: "the command has no controlling terminal, so XNU refuses it TIOCSTI; not when cordon runs as root"},
		Fact{Name: "limits", Detail: "open files and file size as rlimits; max_processes counts all of your processes on macOS; limits.memory cannot be enforced (weaker mode " + string(policy.DegradedMacOSNoMemoryLimit) + ")"},
	)
	ok, detail := macSelfTest(home, policy.ModeWorkspaceWrite)
	d.Modes = append(d.Modes, ModeSupport{Mode: "workspace-write", Works: ok, Detail: detail + " (" + macplan.Unverified + ")"})
	d.Modes = append(d.Modes, ModeSupport{Mode: "read-only", Works: ok, Detail: "same layers as workspace-write"})
	d.Modes = append(d.Modes, ModeSupport{Mode: "full-access", Works: true, Detail: "no boundary; must be chosen explicitly"})
	return d
}

// macSelfTest runs a probe command in a fresh workspace: it must write the
// workspace and be refused a write beside it.
func macSelfTest(home string, mode policy.Mode) (bool, string) {
	root, err := os.MkdirTemp("", "cordon-doctor-")
	if err != nil {
		return false, err.Error()
	}
	defer os.RemoveAll(root)
	root, _ = filepath.EvalSymlinks(root)
	ws := filepath.Join(root, "ws")
	if err := os.Mkdir(ws, 0o755); err != nil {
		return false, err.Error()
	}
	p, err := policy.Load(policy.Options{Workspace: ws, Home: home, NoUserFile: true, Flags: policy.Flags{Mode: mode}})
	if err != nil {
		return false, err.Error()
	}
	null, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	defer null.Close()
	outside := filepath.Join(root, "outside")
	req := Request{Policy: p, Workspace: ws, Home: home, Stdin: null, Stdout: null, Stderr: null,
		Argv:    []string{"/bin/sh", "-c", `echo ok > probe; echo escaped > "$1"; exit 0`, "sh", outside},
		Environ: []string{"PATH=/usr/bin:/bin"}}
	start := time.Now()
	res, err := Run(context.Background(), req)
	if err != nil {
		msg := err.Error()
		if h, ok := err.(interface{ Hint() string }); ok && h.Hint() != "" {
			msg += " (" + h.Hint() + ")"
		}
		return false, msg
	}
	if res.ExitCode != 0 {
		return false, fmt.Sprintf("the probe command exited with %d", res.ExitCode)
	}
	if b, err := os.ReadFile(filepath.Join(ws, "probe")); err != nil || string(b) != "ok\n" {
		return false, "the probe command could not write the workspace"
	}
	if _, err := os.Stat(outside); err == nil {
		return false, "the probe command wrote outside the workspace: the sandbox is NOT in force"
	}
	return true, fmt.Sprintf("ran a probe command in %s: it wrote the workspace and was refused a write beside it", time.Since(start).Round(time.Millisecond))
}
