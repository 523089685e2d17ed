package sandbox

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/gitguard"
)

// Repositories the command made in the run (directories that acquired a
// HEAD, reported by the init's supervisor) are checked when the run ends,
// before anyone outside can run git in them: hooks are moved aside, and a
// config (or config.worktree) with a key that runs a program is moved aside
// and replaced by its harmless keys (internal/gitguard). Nothing is deleted:
// what was moved keeps its content under a ".cordon-disarmed" name.
//
// Every operation is relative to descriptors opened below the writable root
// without following symbolic links (openat2 RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS), so a path that changed since the report can only
// lead to a directory inside the same root.

// disarmed is one thing the check moved aside.
type disarmed struct {
	Path    string // where it was
	MovedTo string // where it is now
	Why     string
}

// maxConfigSize bounds the config file the check reads.
const maxConfigSize = 1 << 20

// disarmGitDirs checks each candidate that lies in one of roots and returns
// what it disarmed.
func disarmGitDirs(candidates map[string]bool, roots []string) []disarmed {
	var out []disarmed
	paths := make([]string, 0, len(candidates))
	for c := range candidates {
		paths = append(paths, c)
	}
	sort.Strings(paths)
	for _, p := range paths {
		root := ""
		for _, r := range roots {
			if (p == r || strings.HasPrefix(p, r+"/")) && len(r) > len(root) {
				root = r
			}
		}
		if root == "" {
			continue
		}
		out = append(out, disarmGitDir(root, p)...)
	}
	return out
}

func disarmGitDir(root, dir string) []disarmed {
	rfd, err := unix.Openat2(unix.AT_FDCWD, root, &unix.OpenHow{
		Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS})
	if err != nil {
		return nil
	}
	defer unix.Close(rfd)
	rel, _ := filepath.Rel(root, dir)
	gfd, err := unix.Openat2(rfd, rel, &unix.OpenHow{
		Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS})
	if err != nil {
		return nil // gone, or moved out of reach
	}
	defer unix.Close(gfd)
	if !isGitDirFD(gfd) {
		return nil
	}
	var out []disarmed
	if why := hooksToDisarm(gfd); why != "" {
		if p, ok := moveAside(gfd, dir, "hooks"); ok {
			out = append(out, disarmed{Path: filepath.Join(dir, "hooks"), MovedTo: p, Why: why})
		}
	}
	for _, name := range []string{"config", "config.worktree"} {
		if d, ok := disarmConfig(gfd, dir, name); ok {
			out = append(out, d)
		}
	}
	return out
}

func isGitDirFD(fd int) bool {
	var st unix.Stat_t
	if unix.Fstatat(fd, "HEAD", &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return false
	}
	if unix.Fstatat(fd, "objects", &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return true
	}
	return unix.Fstatat(fd, "commondir", &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

// hooksToDisarm says why the hooks directory must go, or "" when it holds
// only git's samples (or does not exist).
func hooksToDisarm(gfd int) string {
	var st unix.Stat_t
	if unix.Fstatat(gfd, "hooks", &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return ""
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "hooks is not a directory"
	}
	hfd, err := unix.Openat(gfd, "hooks", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "hooks cannot be read: " + err.Error()
	}
	d := os.NewFile(uintptr(hfd), "hooks")
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return "hooks cannot be read: " + err.Error()
	}
	var planted []string
	for _, n := range names {
		if !strings.HasSuffix(n, ".sample") {
			planted = append(planted, n)
		}
	}
	if len(planted) == 0 {
		return ""
	}
	sort.Strings(planted)
	return fmt.Sprintf("hooks that git would run: %s", strings.Join(planted, ", "))
}

// disarmConfig moves a config with unsafe keys aside and writes its safe
// keys in its place.
func disarmConfig(gfd int, dir, name string) (disarmed, bool) {
	var st unix.Stat_t
	if unix.Fstatat(gfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return disarmed{}, false
	}
	var safe []byte
	why := ""
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		why = name + " is not a regular file"
	} else {
		fd, err := unix.Openat(gfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return disarmed{}, false
		}
		f := os.NewFile(uintptr(fd), name)
		data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
		f.Close()
		switch {
		case err != nil:
			why = name + " cannot be read: " + err.Error()
		case len(data) > maxConfigSize:
			why = name + " is larger than 1 MiB"
		default:
			var dropped []string
			safe, dropped, _ = gitguard.Filter(data)
			if len(dropped) == 0 {
				return disarmed{}, false
			}
			why = "settings that make git run a program: " + strings.Join(dropped, "; ")
		}
	}
	moved, ok := moveAside(gfd, dir, name)
	if !ok {
		return disarmed{}, false
	}
	if safe != nil {
		if fd, err := unix.Openat(gfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644); err == nil {
			unix.Write(fd, safe)
			unix.Close(fd)
		}
	}
	return disarmed{Path: filepath.Join(dir, name), MovedTo: moved, Why: why}, true
}

// moveAside renames name in the git directory to a ".cordon-disarmed" name
// that does not exist yet, and returns the new path.
func moveAside(gfd int, dir, name string) (string, bool) {
	stamp := time.Now().UTC().Format("20060102T150405")
	for i := 0; i < 100; i++ {
		to := name + ".cordon-disarmed-" + stamp
		if i > 0 {
			to += fmt.Sprintf("-%d", i)
		}
		err := unix.Renameat2(gfd, name, gfd, to, unix.RENAME_NOREPLACE)
		if err == nil {
			return filepath.Join(dir, to), true
		}
		if err != unix.EEXIST {
			return "", false
		}
	}
	return "", false
}

// reportDisarmed records what the check moved aside.
func (res *Result) reportDisarmed(req *Request, ds []disarmed) {
	for _, d := range ds {
		den := Denial{Operation: "disarm", Target: d.Path, Layer: "git", Why: d.Why + "; moved to " + filepath.Base(d.MovedTo)}
		res.Denied = append(res.Denied, den)
		req.emit(audit.AccessDenied{Operation: den.Operation, Path: den.Target, Layer: den.Layer, Detail: den.Why})
	}
}
