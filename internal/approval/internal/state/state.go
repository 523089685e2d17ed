// Package state holds the files the approval channels keep in cordon's state
// directory (the inbox's published address, the grant store, the locks) and
// the rules for writing them: private directories (0700), private files
// (0600), atomic replacement, and advisory locks between cordon processes.
//
// The state directory is masked inside the sandbox (neither readable nor
// writable), which is what keeps a sandboxed command from reading the
// inbox's token or writing a grant.
package state

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cordon-sandbox/cordon/internal/fsutil"
)

// Dir is cordon's state directory for the user whose home is home:
// $XDG_STATE_HOME/cordon when XDG_STATE_HOME is absolute, else
// ~/.local/state/cordon. It must agree with sandbox.StateDir, which the
// sandbox masks; a test checks that it does.
func Dir(home string) string {
	if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "cordon")
	}
	return filepath.Join(home, ".local", "state", "cordon")
}

// MkdirPrivate creates dir and its missing parents with mode 0700 and makes
// sure dir itself is a directory only its owner can enter.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := checkPrivate(dir, fi); err != nil {
		// A directory created by an older cordon or by hand: tighten it
		// rather than refuse, it is ours.
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("make %s private: %w", dir, err)
		}
	}
	return nil
}

// WriteFileAtomic replaces path with data (mode 0600): a reader sees the old
// file or the new one, never a part.
func WriteFileAtomic(path string, data []byte) error {
	return fsutil.WriteFileAtomic(path, data, 0o600)
}

// ReadPrivateFile reads path after checking that it is a regular file that
// only its owner, the current user, can read or write: a file anyone else
// could have written is not trusted.
func ReadPrivateFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if err := checkPrivate(path, fi); err != nil {
		return nil, err
	}
	const max = 1 << 20
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}

// RandomHex returns n random bytes as hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported systems; a token that is
		// not random must never be used.
		panic("cordon: no randomness for a secret token: " + err.Error())
	}
	return hex.EncodeToString(b)
}
