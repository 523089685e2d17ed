package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cordon-sandbox/cordon/sandbox"
)

// The sandbox masks sandbox.StateDir; the approval channels keep their
// secrets in Dir. They must be the same directory.
func TestDirIsTheDirectoryTheSandboxMasks(t *testing.T) {
	for _, xdg := range []string{"", "/var/lib/someone/state", "relative/ignored"} {
		t.Setenv("XDG_STATE_HOME", xdg)
		if got, want := Dir("/home/u"), sandbox.StateDir("/home/u"); got != want {
			t.Errorf("XDG_STATE_HOME=%q: Dir = %s, sandbox.StateDir = %s", xdg, got, want)
		}
	}
}

func TestPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := MkdirPrivate(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v", fi.Mode())
	}
	path := filepath.Join(dir, "f")
	if err := WriteFileAtomic(path, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadPrivateFile(path); err != nil || string(b) != "x" {
		t.Fatalf("read back %q, %v", b, err)
	}
	os.Chmod(path, 0o640)
	if _, err := ReadPrivateFile(path); err == nil {
		t.Error("a file the group can read was trusted")
	}
	os.Chmod(path, 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(path, link)
	if _, err := ReadPrivateFile(link); err == nil {
		t.Error("a symbolic link was followed")
	}
}

func TestLocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	if locked, err := IsLocked(path); err != nil || locked {
		t.Fatalf("IsLocked on a missing file = %v, %v", locked, err)
	}
	l, ok, err := TryLockExclusive(path)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if locked, _ := IsLocked(path); !locked {
		t.Error("IsLocked misses a held lock")
	}
	if _, ok, _ := TryLockExclusive(path); ok {
		t.Error("two exclusive locks at once")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LockShared(ctx, path); err == nil {
		t.Error("a shared lock while an exclusive one is held")
	}
	l.Unlock()
	if locked, _ := IsLocked(path); locked {
		t.Error("IsLocked after Unlock")
	}
}
