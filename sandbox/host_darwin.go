package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// StateDir and cacheDir are copies of host_linux.go's, so that a workspace
// keeps the same state and cache directories on both systems; they are to
// move to a file both systems build once host_linux.go can be changed.

// StateDir is cordon's state directory: audit logs, grants, locks. It is
// never writable, nor readable, inside the sandbox.
func StateDir(home string) string {
	if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "cordon")
	}
	return filepath.Join(home, ".local", "state", "cordon")
}

// cacheDir returns (and creates) the workspace's private tool cache.
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
