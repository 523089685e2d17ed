package linuxplan

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/cordon-sandbox/cordon/internal/gitguard"
)

// maxIncludeDepth is git's own limit on nested config includes.
const maxIncludeDepth = 10

// gitConfigTargets returns the paths that the git config of the
// repositories at the roots names as code git runs or as more config: the
// directory of core.hooksPath (husky's .husky, a project's .githooks) and
// every file the config includes (include.path, includeIf.*.path). A
// writable one would let the command plant a hook or a core.fsmonitor that
// runs the next time the user runs git there; so they are protected like
// .git/hooks and .git/config. The user's own ~/.gitconfig and
// ~/.config/git/config count too: their core.hooksPath applies to every
// repository. A config cordon cannot read as git would is an error, not a
// silent gap.
func (b *builder) gitConfigTargets(roots []string) ([]string, error) {
	var targets []string
	seen := map[string]bool{}
	var read func(file, worktree string, depth int) error
	read = func(file, worktree string, depth int) error {
		if seen[file] || depth > maxIncludeDepth {
			return nil
		}
		seen[file] = true
		data, err := b.fs.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
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
				targets = append(targets, b.gitPath(s.Value, worktree))
			case s.Name == "path" && (s.Section == "include" || s.Section == "includeif") && s.Value != "":
				// An include's relative path is relative to the file
				// that includes it.
				inc := b.gitPath(s.Value, filepath.Dir(file))
				targets = append(targets, inc)
				if err := read(inc, worktree, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, r := range roots {
		if r == b.in.CacheDir {
			continue
		}
		var dirs []string
		if fi, err := b.fs.Lstat(filepath.Join(r, ".git")); err == nil && fi.IsDir() {
			dirs = append(dirs, filepath.Join(r, ".git"))
		}
		dirs = append(dirs, b.host.GitDirs(r)...)
		for _, d := range dirs {
			for _, name := range []string{"config", "config.worktree"} {
				if err := read(filepath.Join(d, name), r, 0); err != nil {
					return nil, err
				}
			}
		}
	}
	if b.in.Home != "" {
		for _, f := range []string{filepath.Join(b.in.Home, ".gitconfig"), filepath.Join(b.in.Home, ".config", "git", "config")} {
			// A relative core.hooksPath in the user's config is relative
			// to each repository; the workspace stands for them.
			if err := read(f, b.in.Workspace, 0); err != nil {
				return nil, err
			}
		}
	}
	return targets, nil
}

// gitPath resolves a path from a git config value as git does: ~/ is the
// home directory, a relative path is relative to base.
func (b *builder) gitPath(v, base string) string {
	switch {
	case v == "~" && b.in.Home != "":
		return b.in.Home
	case strings.HasPrefix(v, "~/") && b.in.Home != "":
		return filepath.Join(b.in.Home, v[2:])
	case filepath.IsAbs(v):
		return filepath.Clean(v)
	}
	return filepath.Join(base, v)
}
