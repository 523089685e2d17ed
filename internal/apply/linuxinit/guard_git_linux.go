package linuxinit

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Git repositories at any depth. git runs code named by a repository's
// control files: hooks/*, and config (core.fsmonitor, core.hooksPath,
// core.pager, filters, aliases, ...), config.worktree, and commondir (which
// points git at another repository's config and hooks). A sandboxed command
// that plants them in a repository runs code outside the next time the user,
// or an editor, runs git there.
//
// The supervisor sees every file write and every name creation, so it
// protects every repository, however deep, without searching for them:
//
//   - in a git directory that existed before the run, the control files
//     cannot be written, created, replaced, linked or truncated (EROFS), and
//     neither the git directory nor its control files can be renamed
//     (EBUSY);
//   - a git directory the command made in this run (git init, clone,
//     worktree add, submodule update) is the command's own: git works in it
//     normally, and when the run ends cordon checks it and disarms what it
//     finds (hooks, and config keys that run programs) before anyone else
//     runs git there.
//
// A git directory is a directory with HEAD and either objects/ or commondir,
// as git itself recognises one. A repository is the command's own when its
// git directory was made by a mkdir this supervisor made in this run; one
// that acquires a HEAD during the run is reported for the check at the end
// whoever made its directory.

// gitControlNames are the names in a git directory that name code git runs.
var gitControlNames = map[string]bool{"config": true, "config.worktree": true, "commondir": true, "hooks": true}

// gitState is what the supervisor remembers of what one run made.
type gitState struct {
	mu sync.Mutex
	// made are the directories this run made (by identity).
	made map[fileID]bool
	// own are the files this run made or gave another name (by identity):
	// hard links among them are the command's own.
	own map[fileID]bool
	// candidates are directories that acquired a HEAD in this run, by path.
	candidates map[string]bool
}

// maxOwn bounds the files remembered; past it, files this run made and then
// hard-linked are refused writes like the user's own hard links.
const maxOwn = 1 << 20

func newGitState() *gitState {
	return &gitState{made: map[fileID]bool{}, own: map[fileID]bool{}, candidates: map[string]bool{}}
}

// isGitDir reports whether the directory open as dirfd looks like a git
// directory (or, with rel "..", its parent).
func isGitDir(dirfd int, rel string) bool {
	prefix := ""
	if rel != "" {
		prefix = rel + "/"
	}
	var st unix.Stat_t
	if unix.Fstatat(dirfd, prefix+"HEAD", &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return false
	}
	if unix.Fstatat(dirfd, prefix+"objects", &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return true
	}
	return unix.Fstatat(dirfd, prefix+"commondir", &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

// gitDirOf returns the identity of the git directory whose control file
// (pfd, name) is: name is a control name in a git directory pfd, or any
// name in the hooks directory pfd of one.
func gitDirOf(pfd int, name string) (fileID, bool) {
	if gitControlNames[name] && isGitDir(pfd, "") {
		id, err := fdIdentity(pfd)
		return id, err == nil
	}
	// A name in a hooks directory: cheap test first (a HEAD beside the
	// directory), then its own name.
	if !isGitDir(pfd, "..") {
		return fileID{}, false
	}
	p, err := os.Readlink("/proc/thread-self/fd/" + strconv.Itoa(pfd))
	if err != nil || !strings.HasSuffix(p, "/hooks") {
		return fileID{}, false
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, "..", &st, 0); err != nil {
		return fileID{}, false
	}
	return fileID{st.Dev, st.Ino}, true
}

// mayTouchGit refuses to write, create or replace a control file of a git
// repository that the command did not make in this run.
func (g *guard) mayTouchGit(t *caller, op string, pfd int, name, asked string) error {
	if name == "" || name == "." || name == ".." {
		return nil
	}
	id, ok := gitDirOf(pfd, name)
	if !ok {
		return nil
	}
	g.git.mu.Lock()
	made := g.git.made[id]
	g.git.mu.Unlock()
	if made {
		return nil
	}
	g.deny(t, op, fdPath(pfd, asked)+"/"+name, "control file of an existing git repository (hooks, config, commondir): git would run what it names outside the sandbox")
	return unix.EROFS
}

// mayMoveGit refuses to rename an existing repository's git directory or
// control files away (to replace them with ones the command wrote).
func (g *guard) mayMoveGit(t *caller, pfd int, name, asked string) error {
	if err := g.mayTouchGit(t, "rename", pfd, name, asked); err != nil {
		return unix.EBUSY
	}
	var st unix.Stat_t
	if unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	if !isGitDir(pfd, name) {
		return nil
	}
	g.git.mu.Lock()
	made := g.git.made[fileID{st.Dev, st.Ino}]
	g.git.mu.Unlock()
	if made {
		return nil
	}
	g.deny(t, "rename", fdPath(pfd, asked)+"/"+name, "git directory of an existing repository: it may not be moved inside the sandbox")
	return unix.EBUSY
}

// madeName records what a creation call made: a directory is the
// command's own from now on, and a HEAD makes its directory a repository to
// check when the run ends.
func (g *guard) madeName(pfd int, name string) {
	var st unix.Stat_t
	if unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return
	}
	g.git.mu.Lock()
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		g.git.made[fileID{st.Dev, st.Ino}] = true
	} else if st.Mode&unix.S_IFMT == unix.S_IFREG && len(g.git.own) < maxOwn {
		g.git.own[fileID{st.Dev, st.Ino}] = true
	}
	g.git.mu.Unlock()
	if name != "HEAD" {
		return
	}
	dir, err := os.Readlink("/proc/thread-self/fd/" + strconv.Itoa(pfd))
	if err != nil || !underAny(dir, g.plan.Roots) {
		return // the private temp dir ends with the run
	}
	g.git.mu.Lock()
	fresh := !g.git.candidates[dir]
	g.git.candidates[dir] = true
	g.git.mu.Unlock()
	if fresh {
		g.send(Message{Type: MsgGitDir, Target: dir})
	}
}

// moved keeps the candidates' paths right when a directory holding one is
// renamed; old and new are the directory's paths before and after.
func (g *guard) moved(old, new string) {
	g.git.mu.Lock()
	defer g.git.mu.Unlock()
	for c := range g.git.candidates {
		if c == old || strings.HasPrefix(c, old+"/") {
			delete(g.git.candidates, c)
			n := new + strings.TrimPrefix(c, old)
			g.git.candidates[n] = true
			g.send(Message{Type: MsgGitDirMoved, From: c, Target: n})
		}
	}
}

// hasCandidates reports whether any directory acquired a HEAD, so renames
// need watching.
func (g *guard) hasCandidates() bool {
	g.git.mu.Lock()
	defer g.git.mu.Unlock()
	return len(g.git.candidates) > 0
}

// mayWriteFile refuses to write a file that has other names (hard links)
// the command did not give it: a write through this name would change it
// under its other names, which may lie outside the workspace (a package
// manager's store, a file of the user's). And it refuses byte code in the
// workspace: a .pyc beside an unchanged module would run the next time the
// user's Python imports it (the sandbox's own Python writes its byte code to
// the private cache).
func (g *guard) mayWriteFile(t *caller, op string, pfd int, name, asked string) error {
	if err := g.mayChangeProtected(t, op, pfd, name, asked); err != nil {
		return err
	}
	if err := g.mayWriteName(t, op, pfd, name, asked); err != nil {
		return err
	}
	var st unix.Stat_t
	if name == "" || unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return nil
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink <= 1 {
		return nil
	}
	g.git.mu.Lock()
	own := g.git.own[fileID{st.Dev, st.Ino}]
	g.git.mu.Unlock()
	if own {
		return nil
	}
	g.deny(t, op, fdPath(pfd, asked)+"/"+name, "the file has other names (hard links), which may lie outside the workspace; copy it to write it (cp --remove-destination)")
	return unix.EROFS
}

// mayWriteName refuses names that must not be written in the writable
// roots whatever they hold: Python byte code.
func (g *guard) mayWriteName(t *caller, op string, pfd int, name, asked string) error {
	if !strings.HasSuffix(name, ".pyc") && !strings.HasSuffix(name, ".pyo") {
		return nil
	}
	dir, err := os.Readlink("/proc/thread-self/fd/" + strconv.Itoa(pfd))
	if err != nil || !underAny(dir, g.plan.Roots) || g.plan.Cache != "" && underAny(dir, []string{g.plan.Cache}) {
		return nil // the private temp dir and cache are the sandbox's own
	}
	g.deny(t, op, dir+"/"+name, "Python byte code in the workspace would run when the user's Python imports the module; the sandbox's Python keeps it in the private cache")
	return unix.EROFS
}
