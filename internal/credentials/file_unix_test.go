//go:build unix

package credentials_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/credentials"
)

func writeSecret(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is filtered by the umask
		t.Fatal(err)
	}
	return p
}

func TestResolveFile(t *testing.T) {
	value := canary(t)
	home := t.TempDir()
	dir := filepath.Join(home, ".config", "cordon", "secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	good := writeSecret(t, dir, "good", value+"\n", 0o600)
	readonly := writeSecret(t, dir, "readonly", value, 0o400)
	groupRead := writeSecret(t, dir, "group", value, 0o640)
	worldRead := writeSecret(t, dir, "world", value, 0o604)
	groupWrite := writeSecret(t, dir, "gwrite", value, 0o620)
	empty := writeSecret(t, dir, "empty", "\n", 0o600)
	short := writeSecret(t, dir, "short", "abc\n", 0o600)
	nul := writeSecret(t, dir, "nul", value+"\x00x", 0o600)
	big := writeSecret(t, dir, "big", strings.Repeat("x", 64<<10+1), 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "subdir")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, path string
		want       string
		errText    string
	}{
		{"mode 600, newline trimmed", good, value, ""},
		{"mode 400", readonly, value, ""},
		{"~/ path", "~/.config/cordon/secrets/good", value, ""},
		{"group-readable", groupRead, "", "has mode 0640, so others on this machine can read or change it; run chmod 600"},
		{"world-readable", worldRead, "", "has mode 0604"},
		{"group-writable", groupWrite, "", "has mode 0620"},
		{"symlink to a good file", link, "", "is a symbolic link"},
		{"dangling symlink", dangling, "", "is a symbolic link"},
		{"missing", filepath.Join(dir, "nope"), "", "does not exist; create it (mode 600)"},
		{"missing parent", filepath.Join(dir, "nope", "x"), "", "does not exist"},
		{"directory", sub, "", "is not a regular file"},
		{"fifo", fifo, "", "is not a regular file"},
		{"empty", empty, "", "the secret is empty"},
		{"too short", short, "", "shorter than 8 bytes"},
		{"NUL byte", nul, "", "contains a NUL byte"},
		{"too big", big, "", "is larger than 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec, err := credentials.Resolve(fileScope(tc.path), home, nil)
			if tc.want != "" {
				if err != nil {
					t.Fatal(err)
				}
				if sec.Value() != tc.want {
					t.Errorf("got %q, want %q", sec.Value(), tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("error %v, want one containing %q", err, tc.errText)
			}
			if !strings.Contains(err.Error(), `credential "deploy"`) {
				t.Errorf("the error does not name the credential: %v", err)
			}
			if strings.Contains(err.Error(), value[:15]) {
				t.Errorf("the error holds the value: %v", err)
			}
		})
	}
	if _, err := credentials.Resolve(fileScope("~/x"), "", nil); err == nil || !strings.Contains(err.Error(), "home directory is unknown") {
		t.Errorf("~/ without a home: %v", err)
	}
}

// TestResolveFileOwner: a file that belongs to someone else is refused,
// whatever its mode. Giving a file away needs root (CI runs tests as root).
func TestResolveFileOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing a file's owner needs root; CI runs the tests as root")
	}
	value := canary(t)
	p := writeSecret(t, t.TempDir(), "theirs", value, 0o600)
	if _, err := credentials.Resolve(fileScope(p), "/", nil); err != nil {
		t.Fatalf("before the chown: %v", err)
	}
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := credentials.Resolve(fileScope(p), "/", nil)
	if err == nil || !strings.Contains(err.Error(), "belongs to user id 65534, not to you (0)") {
		t.Fatalf("error %v", err)
	}
}

func writeFuzzSecret(t *testing.T, value string, mode uint16) string {
	return writeSecret(t, t.TempDir(), "secret", value, os.FileMode(mode)&0o777)
}
