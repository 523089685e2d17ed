package unixplan

import (
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Host is one system's file system and the traits of its enforcement that
// change the decisions below. Each field that is not FS marks a place where
// Linux and macOS decide differently; its comment says why, and each
// planner sets it where it makes its Host.
type Host struct {
	FS FS
	// Fold: the volume compares names without case (APFS's default), so
	// patterns match without case too.
	Fold bool
	// DenyAbsent: the enforcement can deny a name that does not exist yet
	// (Seatbelt's rules name paths), so denied paths are kept whether they
	// exist or not. Without it (Linux, whose masks are mounts on existing
	// files) an absent denied path is left out: there is nothing to hide.
	DenyAbsent bool
	// DenyLinkTargets: a symbolic link that a workspace pattern matches is
	// denied by what it leads to (Linux: no mask can go on a link, and one
	// on a link the command made would stop every later run). With
	// DenyAbsent the target is denied even before it exists.
	DenyLinkTargets bool
	// DenyLinkPaths: such a link is denied by its own path as well
	// (macOS: Seatbelt compares a read through the link with the path the
	// kernel resolves, and an lstat or readlink of the link with its own).
	DenyLinkPaths bool
	// ResolveProtected: the directory of an absolute protected path or a
	// policy file is resolved through FS.Resolve (macOS: Seatbelt compares
	// rules with resolved paths). Without it (Linux) they are taken as
	// written, cleaned.
	ResolveProtected bool
	// OwnNewGit: a .git that does not exist in a root is not protected: a
	// repository the command makes (git init, clone) is its own, and
	// Linux's supervisor checks it when the run ends (guard_git_linux.go in
	// internal/apply/linuxinit). macOS has no such check, so there an
	// absent .git stays uncreatable.
	OwnNewGit bool
	// KeepUnresolvedGitdir: the git directory a .git file names is
	// protected as written when it does not resolve (Linux, whose planner
	// reserves its first missing component). Without it (macOS) such a
	// .git file adds nothing.
	KeepUnresolvedGitdir bool
}

// Match matches an absolute pattern (doublestar syntax) against a path, or
// a pattern without a slash against a name; without case where the volume
// folds it.
func (h Host) Match(pattern, name string) bool {
	if h.Fold {
		pattern, name = strings.ToLower(pattern), strings.ToLower(name)
	}
	ok, _ := doublestar.Match(pattern, name)
	return ok
}

// MatchRel matches a workspace pattern against a path relative to a root:
// one without a slash matches the base name at any depth; one with a slash
// matches the path below the root (a leading ./ is dropped).
func (h Host) MatchRel(pattern, rel string) bool {
	if !strings.Contains(pattern, "/") {
		return h.Match(pattern, path.Base(rel))
	}
	return h.Match(strings.TrimPrefix(pattern, "./"), rel)
}

// HasGlob reports whether p holds glob syntax.
func HasGlob(p string) bool { return strings.ContainsAny(p, "*?[{") }
