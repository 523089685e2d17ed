package unixplan

import (
	"fmt"
	"path"
	"strings"

	"github.com/cordon-sandbox/cordon/internal/gitguard"
)

// maxIncludeDepth is git's own limit on nested config includes.
const maxIncludeDepth = 10

// GitConfigInput says where GitConfigTargets looks.
type GitConfigInput struct {
	// Roots are the writable roots: the repositories at them are read.
	Roots []string
	// Cache is cordon's private cache among the roots, which holds no
	// repository.
	Cache string
	// Home is the user's home directory ("" for none): its git config
	// applies to every repository.
	Home string
	// Workspace stands for the repositories a relative core.hooksPath in
	// the user's own config applies to.
	Workspace string
}

// GitConfigTargets returns the paths that the git config of the
// repositories at the roots names as code git runs or as more config: the
// directory of core.hooksPath (husky's .husky, a project's .githooks) and
// every file the config includes (include.path, includeIf.*.path). A
// writable one would let the command plant a hook or a core.fsmonitor that
// runs the next time the user runs git there; so they are protected like
// .git/hooks and .git/config. The user's own ~/.gitconfig and
// ~/.config/git/config count too: their core.hooksPath applies to every
// repository. A config cordon cannot read as git would is an error, not a
// silent gap.
func (h Host) GitConfigTargets(in GitConfigInput) ([]string, error) {
	var targets []string
	seen := map[string]bool{}
	var read func(file, worktree string, depth int) error
	read = func(file, worktree string, depth int) error {
		if seen[file] || depth > maxIncludeDepth {
			return nil
		}
		seen[file] = true
		data, err := h.FS.ReadFile(file)
		if IsNotExist(err) {
			return nil
		}
		if err != nil {
			return &InputError{Msg: fmt.Sprintf("read the git config %s: %v", file, err),
				Fix: "cordon reads it to protect the hooks and config files it names; make it readable"}
		}
		settings, err := gitguard.Parse(data)
		if err != nil {
			return &InputError{Msg: fmt.Sprintf("the git config %s cannot be parsed: %v", file, err),
				Fix: "cordon reads it to protect the hooks and config files it names; fix it (git config --file " + file + " --list shows what git makes of it)"}
		}
		for _, s := range settings {
			switch {
			case s.Key() == "core.hookspath" && s.Value != "":
				targets = append(targets, gitPath(s.Value, worktree, in.Home))
			case s.Name == "path" && (s.Section == "include" || s.Section == "includeif") && s.Value != "":
				// An include's relative path is relative to the file
				// that includes it.
				inc := gitPath(s.Value, path.Dir(file), in.Home)
				targets = append(targets, inc)
				if err := read(inc, worktree, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, r := range in.Roots {
		if r == in.Cache {
			continue
		}
		var dirs []string
		if info, err := h.FS.Lstat(path.Join(r, ".git")); err == nil && info.Kind == KindDir {
			dirs = append(dirs, path.Join(r, ".git"))
		}
		dirs = append(dirs, h.GitDirs(r)...)
		for _, d := range dirs {
			for _, name := range []string{"config", "config.worktree"} {
				if err := read(path.Join(d, name), r, 0); err != nil {
					return nil, err
				}
			}
		}
	}
	if in.Home != "" {
		for _, f := range []string{path.Join(in.Home, ".gitconfig"), path.Join(in.Home, ".config", "git", "config")} {
			// A relative core.hooksPath in the user's config is relative
			// to each repository; the workspace stands for them.
			if err := read(f, in.Workspace, 0); err != nil {
				return nil, err
			}
		}
	}
	return targets, nil
}

// gitPath resolves a path from a git config value as git does: ~/ is the
// home directory, a relative path is relative to base.
func gitPath(v, base, home string) string {
	switch {
	case v == "~" && home != "":
		return home
	case strings.HasPrefix(v, "~/") && home != "":
		return path.Join(home, v[2:])
	case path.IsAbs(v):
		return path.Clean(v)
	}
	return path.Join(base, v)
}
