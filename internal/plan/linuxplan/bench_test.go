package linuxplan

import (
	"os"
	"path/filepath"
	"testing"

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

func benchmarkMake(b *testing.B, ws string) {
	home, _ := os.UserHomeDir()
	p, err := policy.Load(policy.Options{Workspace: ws, Home: home, NoUserFile: true})
	if err != nil {
		b.Fatal(err)
	}
	in := Input{Policy: p, Workspace: ws, Home: home, Argv: []string{"true"}, Env: []string{"PATH=/usr/bin"}, FS: OSFS{}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := Make(in); err != nil {
			b.Fatal(err)
		}
	}
}
