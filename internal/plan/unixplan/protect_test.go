package unixplan

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// repo is a workspace /w with a git directory, an extra root /x and
// cordon's cache /c.
func repo() *fakeFS {
	f := newFS()
	f.dir("/w/.git/hooks").file("/w/.git/config", "").dir("/w/src").file("/w/file", "")
	f.dir("/x").dir("/c").file("/pol/policy.toml", "")
	return f
}

var roots = []string{"/w", "/x", "/c"}

func TestProtectedInEveryRootButTheCache(t *testing.T) {
	paths, absent, err := Host{FS: repo()}.Protected(ProtectInput{
		Protected:   items(".git/hooks", ".git/config", ".vscode", "/x/abs", "/outside/p"),
		PolicyFiles: []string{"/w/.cordon/policy.toml", "/pol/policy.toml"},
		Roots:       roots, Cache: "/c",
	})
	if err != nil {
		t.Fatal(err)
	}
	// Found in the order of the sorted names; /x/.git is absent, so the
	// whole name stands for the two below it.
	want := []string{"/w/.cordon", "/w/.git/config", "/w/.git/hooks", "/w/.vscode", "/x/.git", "/x/.vscode", "/x/abs"}
	if !slices.Equal(paths, want) {
		t.Errorf("paths = %v, want %v (nothing in the cache or outside the roots)", paths, want)
	}
	if got := Keys(absent); !slices.Equal(got, []string{"/w/.cordon", "/w/.vscode", "/x/.git", "/x/.vscode", "/x/abs"}) {
		t.Errorf("absent = %v", got)
	}
}

func TestANewGitIsTheCommandsOwnOnlyWhereSomethingChecksIt(t *testing.T) {
	in := ProtectInput{Protected: items(".git/hooks"), Roots: []string{"/x"}}
	paths, absent, err := Host{FS: repo()}.Protected(in)
	if err != nil || !slices.Equal(paths, []string{"/x/.git"}) || !absent["/x/.git"] {
		t.Errorf("without OwnNewGit: %v %v %v; want the absent .git kept uncreatable", paths, absent, err)
	}
	paths, absent, err = Host{FS: repo(), OwnNewGit: true}.Protected(in)
	if err != nil || len(paths) != 0 || len(absent) != 0 {
		t.Errorf("with OwnNewGit: %v %v %v; want nothing", paths, absent, err)
	}
}

func TestProtectedCoveredByAnotherIsDroppedButStaysAbsent(t *testing.T) {
	paths, absent, err := Host{FS: repo()}.Protected(ProtectInput{Protected: items(".git", ".git/hooks/pre-commit"), Roots: []string{"/w"}})
	if err != nil || !slices.Equal(paths, []string{"/w/.git"}) {
		t.Errorf("paths = %v, %v; want only the outer /w/.git", paths, err)
	}
	if !absent["/w/.git/hooks/pre-commit"] {
		t.Errorf("absent = %v: it lists every absent target, covered or not", absent)
	}
}

func TestProtectedRefusals(t *testing.T) {
	f := repo().dir("/elsewhere").link("/w/.vscode", "/elsewhere").link("/w/lnk", "/elsewhere")
	for _, c := range []struct {
		entry, want string
	}{
		{".vscode", "protected path /w/.vscode is a symbolic link"},
		{"lnk/settings", "protected path /w/lnk is a symbolic link"},
		{"/x", "/x is both a writable root and a protected path"},
	} {
		_, _, err := Host{FS: f}.Protected(ProtectInput{Protected: items(c.entry), Roots: roots})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) || ie.Hint() == "" {
			t.Errorf("%s: err = %v, want %q with a hint", c.entry, err, c.want)
		}
	}
}

func TestFirstMissing(t *testing.T) {
	f := repo().file("/w/.git2", "gitdir: x")
	f.dir("/w/src/racy")
	f.enotdir["/w/src/racy/x"] = true
	for _, c := range []struct {
		p, want string
		exists  bool
	}{
		{"/w/.git/hooks", "/w/.git/hooks", true},
		{"/w/a/b/c", "/w/a", false},
		{"/w/.git/hooks/x/y", "/w/.git/hooks/x", false},
		{"/w/.git2/config", "/w/.git2", true},   // a file covers the names below it
		{"/w/file/sub/deeper", "/w/file", true}, // whatever the depth
		{"/w/src/racy/x", "/w/src/racy", true},  // ENOTDIR: the parent is no directory now
	} {
		got, exists, err := Host{FS: f}.FirstMissing("/w", c.p)
		if err != nil || got != c.want || exists != c.exists {
			t.Errorf("FirstMissing(%s) = %s, %v, %v; want %s, %v", c.p, got, exists, err, c.want, c.exists)
		}
	}
	if got, ok, err := (Host{FS: newFS().dir("/a")}).FirstMissing("/", "/a/b"); got != "/a/b" || ok || err != nil {
		t.Errorf("below /: %s %v %v", got, ok, err)
	}
}

func TestResolveProtected(t *testing.T) {
	f := repo().link("/wl", "/w")
	in := ProtectInput{PolicyFiles: []string{"/wl/.cordon/policy.toml"}, Roots: []string{"/w"}}
	if paths, _, _ := (Host{FS: f, ResolveProtected: true}).Protected(in); !slices.Equal(paths, []string{"/w/.cordon"}) {
		t.Errorf("resolved: %v", paths)
	}
	if paths, _, _ := (Host{FS: f}).Protected(in); len(paths) != 0 {
		t.Errorf("as written, /wl/... lies in no root: %v", paths)
	}
}

func TestGitDirs(t *testing.T) {
	f := newFS().dir("/w").dir("/r/.git/worktrees/wt/hooks").file("/r/.git/worktrees/wt/commondir", "../..\n").dir("/r/.git/hooks")
	f.file("/w/.git", "gitdir: ../r/.git/worktrees/wt\n")
	if got := (Host{FS: f}).GitDirs("/w"); !slices.Equal(got, []string{"/r/.git/worktrees/wt", "/r/.git"}) {
		t.Errorf("worktree: %v", got)
	}
	f.file("/v/.git", "gitdir: /r/gone\n").file("/u/.git", "not a gitdir line\n").dir("/t/.git")
	if got := (Host{FS: f}).GitDirs("/v"); got != nil {
		t.Errorf("an absent gitdir: %v, want none", got)
	}
	if got := (Host{FS: f, KeepUnresolvedGitdir: true}).GitDirs("/v"); !slices.Equal(got, []string{"/r/gone"}) {
		t.Errorf("an absent gitdir kept: %v", got)
	}
	for _, root := range []string{"/u", "/t", "/none"} {
		if got := (Host{FS: f, KeepUnresolvedGitdir: true}).GitDirs(root); got != nil {
			t.Errorf("%s: %v, want none", root, got)
		}
	}
}

func TestGitDirsAreProtected(t *testing.T) {
	f := newFS().dir("/w").dir("/r/.git/worktrees/wt/hooks").file("/r/.git/worktrees/wt/commondir", "../..\n").dir("/r/.git/hooks").file("/r/.git/config", "")
	f.file("/w/.git", "gitdir: ../r/.git/worktrees/wt\n")
	paths, _, err := Host{FS: f}.Protected(ProtectInput{Roots: []string{"/w", "/r"}})
	want := []string{"/r/.git/config", "/r/.git/hooks", "/r/.git/worktrees/wt/config", "/r/.git/worktrees/wt/hooks"}
	if err != nil || !slices.Equal(paths, want) {
		t.Errorf("paths = %v, %v; want %v", paths, err, want)
	}
}

func TestSocketGrants(t *testing.T) {
	f := newFS().socket("/run/docker.sock").link("/h/d.sock", "/run/docker.sock").file("/h/plain", "").socket("/h/.ssh/agent.sock")
	got, err := Host{FS: f}.SocketGrants(items("/h/d.sock", "/run/docker.sock", "/h/absent.sock", "/h/plain"), []string{"/h/.ssh"})
	if err != nil || !slices.Equal(got, []string{"/run/docker.sock"}) {
		t.Errorf("grants = %v, %v; want the link resolved, once, and the absent and plain files left out", got, err)
	}
	_, err = Host{FS: f}.SocketGrants(items("/h/.ssh/agent.sock"), []string{"/h/.ssh"})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "lies in the denied path /h/.ssh") {
		t.Errorf("a socket in a denied path: err = %v", err)
	}
}

func TestExtraPathsAreCleaned(t *testing.T) {
	paths, absent, err := Host{FS: repo()}.Protected(ProtectInput{Extra: []string{"/w/tools/../.husky/", "/w/src"}, Roots: []string{"/w"}})
	if err != nil || !slices.Equal(paths, []string{"/w/.husky", "/w/src"}) || !absent["/w/.husky"] || absent["/w/src"] {
		t.Errorf("paths = %v, absent = %v, %v; want /w/.husky (absent) and /w/src", paths, absent, err)
	}
}
