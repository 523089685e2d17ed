package sandbox

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/linuxplan"
)

// userNSProblem explains why unprivileged user namespaces are unavailable,
// or returns "" when nothing stands in the way.
func userNSProblem() string {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if read("/proc/sys/user/max_user_namespaces") == "0" {
		return "user namespaces are disabled (user.max_user_namespaces = 0)"
	}
	if os.Getuid() != 0 {
		if read("/proc/sys/kernel/unprivileged_userns_clone") == "0" {
			return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)"
		}
		if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1" {
			return "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1, the Ubuntu 24.04 default)"
		}
	}
	return ""
}

// cacheDir returns (and creates) the workspace's private tool cache: build
// tools inside the sandbox write there, never into the host's caches.
func cacheDir(home, workspace string) (string, error) {
	base := filepath.Join(home, ".cache")
	if x := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(x) {
		base = x
	}
	sum := sha256.Sum256([]byte(workspace))
	dir := filepath.Join(base, "cordon", "workspaces", filepath.Base(workspace)+"-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create the workspace's private cache: %w", err)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	return real, nil
}

// workspaceLock serialises placeholder bookkeeping between concurrent runs
// in one workspace. Every run holds it shared while it runs; the last one
// out removes the placeholders (a run killed with SIGKILL leaves them for
// the next one, recorded in the ledger).
type workspaceLock struct {
	f      *os.File
	ledger string
}

func lockWorkspace(home, workspace string) (*workspaceLock, error) {
	dir := filepath.Join(StateDir(home), "workspaces")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create cordon's state directory: %w", err)
	}
	sum := sha256.Sum256([]byte(workspace))
	name := hex.EncodeToString(sum[:8])
	f, err := os.OpenFile(filepath.Join(dir, name+".lock"), os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the workspace lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the workspace: %w", err)
	}
	return &workspaceLock{f: f, ledger: filepath.Join(dir, name+".placeholders")}, nil
}

// createPlaceholders makes the empty directories and files that absent
// protected paths are mounted on, and records them for removal.
func (l *workspaceLock) createPlaceholders(paths []linuxplan.Placeholder) error {
	if len(paths) == 0 {
		return nil
	}
	led, err := os.OpenFile(l.ledger, os.O_CREATE|os.O_WRONLY|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open the placeholder ledger: %w", err)
	}
	defer led.Close()
	for _, p := range paths {
		// Record first: a crash between the two leaves a harmless entry.
		if _, err := fmt.Fprintln(led, p.Path); err != nil {
			return err
		}
		var err error
		if p.Dir {
			err = os.Mkdir(p.Path, 0o755)
		} else {
			var f *os.File
			if f, err = os.OpenFile(p.Path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o444); err == nil {
				f.Close()
			}
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create a placeholder for the protected path %s: %w", p.Path, err)
		}
	}
	// No fsync: the ledger only has to outlive cordon, not the machine; after
	// a power loss the worst left behind is an empty directory.
	return nil
}

// release removes the placeholders if no other run in this workspace is
// still using them, and unlocks.
func (l *workspaceLock) release() {
	defer l.f.Close()
	if unix.Flock(int(l.f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return // another run is still inside; it cleans up when it leaves
	}
	f, err := os.Open(l.ledger)
	if err != nil {
		return
	}
	var left []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := sc.Text()
		// Only an empty placeholder is ours to remove; anything the user
		// put there or wrote into it since stays.
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if st.Mode().IsRegular() && st.Size() > 0 {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			if st.IsDir() {
				continue // not empty: the user's now
			}
			left = append(left, p)
		}
	}
	f.Close()
	if len(left) == 0 {
		os.Remove(l.ledger)
	} else {
		os.WriteFile(l.ledger, []byte(strings.Join(left, "\n")+"\n"), 0o600)
	}
}
