package linuxplan

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/fswatch"
	"github.com/cordon-sandbox/cordon/policy"
)

// BenchmarkMakeRepo plans a run in this repository's checkout with the
// built-in policy: what each cold run (and each command of a warm session,
// which re-plans to notice a changed workspace) pays for the plan.
func BenchmarkMakeRepo(b *testing.B) {
	ws, err := filepath.EvalSymlinks(filepath.Join("..", "..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	ws, _ = filepath.Abs(ws)
	benchmarkMake(b, ws)
}

// BenchmarkMakeEmpty plans a run in an empty workspace: what the plan costs
// apart from searching the workspace.
func BenchmarkMakeEmpty(b *testing.B) {
	ws, err := filepath.EvalSymlinks(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	benchmarkMake(b, ws)
}

// BenchmarkMakeRepoWatched plans in this checkout through the warm
// session's filesystem cache (internal/fswatch), synced before each plan
// as the session does: what a warm command pays when nothing changed.
func BenchmarkMakeRepoWatched(b *testing.B) {
	ws, err := filepath.EvalSymlinks(filepath.Join("..", "..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	ws, _ = filepath.Abs(ws)
	c, err := fswatch.New()
	if err != nil {
		b.Skip(err)
	}
	defer c.Close()
	benchmarkMakeFS(b, ws, c)
}

func benchmarkMake(b *testing.B, ws string) { benchmarkMakeFS(b, ws, OSFS{}) }

type syncer interface{ Sync() }

func benchmarkMakeFS(b *testing.B, ws string, fsys FS) {
	home, _ := os.UserHomeDir()
	p, err := policy.Load(policy.Options{Workspace: ws, Home: home, NoUserFile: true})
	if err != nil {
		b.Fatal(err)
	}
	in := Input{Policy: p, Workspace: ws, Home: home, Argv: []string{"true"}, Env: []string{"PATH=/usr/bin"}, FS: fsys}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s, ok := fsys.(syncer); ok {
			s.Sync()
		}
		if _, _, err := Make(in); err != nil {
			b.Fatal(err)
		}
	}
}
