package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
