package auditsink

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/auditsink/jsonl"
)

var ids = audit.IDs{Session: "s", Run: "r"}

func TestOpenDefaultFileUnderXDGStateHome(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	l, err := Open(audit.DefaultConfig(), ids)
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(audit.CommandRequested{Argv: []string{"true"}})
	if err := l.Healthy(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(state, "cordon", "audit.jsonl")
	r, err := jsonl.Verify([]string{path})
	if err != nil || r.Events != 1 || len(r.Findings) != 0 {
		t.Fatalf("verify %s: %v %+v", path, err, r)
	}
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700, path: 0o600, path + ".head": 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", p, fi.Mode().Perm(), want, err)
		}
	}
}

// A required file sink that cannot be opened stops commands, and says where
// and why.
func TestRequiredFileSinkThatCannotOpen(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := audit.DefaultConfig()
	cfg.File.Path = filepath.Join(blocker, "audit.jsonl")
	cfg.File.Required = true
	l, err := Open(cfg, ids)
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(audit.CommandRequested{Argv: []string{"true"}})
	err = l.Healthy()
	var sde *audit.SinkDownError
	if !errors.As(err, &sde) || sde.Sink != "file" || !strings.Contains(err.Error(), blocker) || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Healthy: %v", err)
	}
	l.Close()

	cfg.File.Required = false
	l, _ = Open(cfg, ids)
	l.Emit(audit.CommandRequested{Argv: []string{"true"}})
	if err := l.Healthy(); err != nil {
		t.Fatalf("an optional broken sink stopped commands: %v", err)
	}
	l.Close()
}

func TestOpenRejectsBadConfig(t *testing.T) {
	cfg := audit.DefaultConfig()
	cfg.File.MaxSizeMB = 0
	if _, err := Open(cfg, ids); err == nil || !strings.Contains(err.Error(), "audit.file.max_size_mb") {
		t.Fatalf("Open: %v", err)
	}
	if _, err := Open(audit.DefaultConfig(), audit.IDs{Session: "s"}); err == nil {
		t.Fatal("Open without a run id succeeded")
	}
}
