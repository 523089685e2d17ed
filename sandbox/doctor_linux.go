package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/apply/linuxinit"
	"github.com/cordon-sandbox/cordon/internal/plan/linuxplan"
	"github.com/cordon-sandbox/cordon/internal/seccomp"
	"github.com/cordon-sandbox/cordon/policy"
)

// Doctor examines this machine: which kernel features are there, and which
// modes therefore work. It runs a real command in the sandbox to prove it.
func Doctor(home string) *Diagnosis {
	markInherited()
	var uts unix.Utsname
	unix.Uname(&uts)
	d := &Diagnosis{System: fmt.Sprintf("linux %s %s", unix.ByteSliceToString(uts.Release[:]), runtime.GOARCH)}

	h := probeHost()
	userns := Fact{Name: "user namespaces", OK: true, Detail: "available to this user"}
	if h.userNS != "" {
		userns = Fact{Name: "user namespaces", Detail: h.userNS, Fix: userNSSysctlFix}
	}
	d.Facts = append(d.Facts, userns)

	abi := h.landlockABI
	ll := Fact{Name: "landlock", OK: h.landlockErr == nil, Detail: fmt.Sprintf("ABI %d", abi)}
	if h.landlockErr != nil {
		ll.Detail, ll.Fix = h.landlockErr.Error(), "use Linux 5.13+ with landlock in the lsm= boot parameter"
	} else if gaps := linuxinit.LandlockGaps(abi, landlockWanted); len(gaps) > 0 {
		ll.Detail += "; " + strings.Join(gaps, "; ")
	}
	d.Facts = append(d.Facts, ll)

	sc := Fact{Name: "seccomp", OK: true, Detail: "filters with the needed actions"}
	if err := seccomp.Supported(); err != nil {
		sc = Fact{Name: "seccomp", Detail: err.Error(), Fix: "use a kernel built with CONFIG_SECCOMP_FILTER"}
	}
	d.Facts = append(d.Facts, sc)
	d.Facts = append(d.Facts, cgroupFact())
	d.Facts = append(d.Facts, Fact{Name: "rlimits", OK: true,
		Detail: "max processes, open files, file size and memory (address space) are applied as rlimits; core dumps are off"})

	selfTest := func(mode policy.Mode, degraded string) (bool, string) {
		ws, err := os.MkdirTemp("", "cordon-doctor-")
		if err != nil {
			return false, err.Error()
		}
		defer os.RemoveAll(ws)
		ws, _ = filepath.EvalSymlinks(ws)
		opts := policy.Options{Workspace: ws, Home: home, NoUserFile: true, Flags: policy.Flags{Mode: mode}}
		if degraded != "" {
			opts.Flags.AllowDegraded = []string{degraded}
		}
		p, err := policy.Load(opts)
		if err != nil {
			return false, err.Error()
		}
		null, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		defer null.Close()
		req := Request{Policy: p, Workspace: ws, Home: home, Argv: []string{"sh", "-c", "echo ok > probe"},
			Environ: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}, Stdin: null, Stdout: null, Stderr: null}
		start := time.Now()
		res, err := runWith(context.Background(), req, policy.Degraded(degraded))
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
		if b, err := os.ReadFile(filepath.Join(ws, "probe")); err != nil || string(b) != "ok\n" && mode != policy.ModeReadOnly {
			return false, "the probe command could not write the workspace"
		}
		return true, fmt.Sprintf("ran a probe command in %s", time.Since(start).Round(100*time.Microsecond))
	}
	ok, detail := selfTest(policy.ModeWorkspaceWrite, "")
	d.Modes = append(d.Modes, ModeSupport{Mode: "workspace-write", Works: ok, Detail: detail})
	d.Modes = append(d.Modes, ModeSupport{Mode: "read-only", Works: ok, Detail: "same layers as workspace-write"})
	d.Modes = append(d.Modes, ModeSupport{Mode: "full-access", Works: true, Detail: "no boundary; must be chosen explicitly"})
	ok, detail = selfTest(policy.ModeWorkspaceWrite, string(policy.DegradedLandlock))
	d.Modes = append(d.Modes, ModeSupport{Mode: "weaker mode \"landlock\" (--allow-degraded=landlock)", Works: ok, Detail: detail})
	return d
}

// landlockWanted is what the full mode asks of Landlock, for gap reporting.
var landlockWanted = linuxplan.Landlock{Scoped: true}

func cgroupFact() Fact {
	b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	switch {
	case err == nil && strings.Contains(string(b), "memory") && strings.Contains(string(b), "pids"):
		return Fact{Name: "cgroups", OK: true, Detail: "cgroup v2 with memory and pids controllers; cordon does not use them yet (rlimits are the floor)"}
	case err == nil:
		return Fact{Name: "cgroups", Detail: "cgroup v2 without memory and pids controllers (" + strings.TrimSpace(string(b)) + "); limits are rlimits only"}
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified"); err == nil {
		return Fact{Name: "cgroups", Detail: "hybrid hierarchy: cgroup v2 has no memory or pids controllers; limits are rlimits only"}
	}
	return Fact{Name: "cgroups", Detail: "cgroup v1 only; limits are rlimits only"}
}
