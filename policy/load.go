package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

//go:embed builtin.toml
var builtinTOML []byte

// BuiltinText returns the built-in default policy, in the file format.
func BuiltinText() string { return string(builtinTOML) }

// WorkspaceFile is where a workspace's own policy lives, relative to it.
const WorkspaceFile = ".cordon/policy.toml"

// Options says which layers Load reads and how.
type Options struct {
	// Workspace is the workspace directory. Load makes it absolute and
	// resolves symlinks.
	Workspace string
	// Home is the user's home directory, for ~ in paths.
	Home string
	// UserFile is the user's own policy file. Empty means the default
	// location ($XDG_CONFIG_HOME/cordon/policy.toml); a missing file at the
	// default location is not an error.
	UserFile string
	// NoUserFile skips the user's file (for tests and for `policy validate`).
	NoUserFile bool
	// ExplicitFile is a file named with --policy; it must exist.
	ExplicitFile string
	// Flags are command-line overrides, trusted like the user's file.
	Flags Flags
	// AllowBroadRoots permits /, the home directory or a parent of it as a
	// writable root (including the workspace).
	AllowBroadRoots bool
}

// Flags are the policy settings that can be given on the command line.
type Flags struct {
	Mode          Mode
	Timeout       *time.Duration
	AllowDegraded []string
	// AllowHosts adds network allow entries (HOST[:PORT]) for one run; it
	// turns the network on through the proxy if it was off.
	AllowHosts []string
}

// DefaultUserFile returns the default location of the user's policy file.
func DefaultUserFile(home string) string {
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "cordon", "policy.toml")
	}
	return filepath.Join(home, ".config", "cordon", "policy.toml")
}

// Load reads, checks and merges the policy layers.
func Load(o Options) (*Policy, error) {
	if o.Home == "" || !filepath.IsAbs(o.Home) {
		return nil, &Error{Msg: fmt.Sprintf("home directory %q is not an absolute path", o.Home),
			Fix: "set HOME to your home directory"}
	}
	ws, err := canonicalDir(o.Workspace)
	if err != nil {
		return nil, err
	}
	o.Workspace = ws

	builtin, err := ParseFile(LayerBuiltin, "builtin", builtinTOML)
	if err != nil {
		return nil, fmt.Errorf("built-in policy: %w", err)
	}
	layers := []*Layer{builtin}

	if !o.NoUserFile {
		path := o.UserFile
		explicitUser := path != ""
		if path == "" {
			path = DefaultUserFile(o.Home)
		}
		l, err := readLayer(LayerUser, path, explicitUser)
		if err != nil {
			return nil, err
		}
		if l != nil {
			layers = append(layers, l)
		}
	}
	wsFile := filepath.Join(ws, WorkspaceFile)
	if l, err := readLayer(LayerWorkspace, wsFile, false); err != nil {
		return nil, err
	} else if l != nil {
		layers = append(layers, l)
	}
	if o.ExplicitFile != "" {
		path, err := filepath.Abs(o.ExplicitFile)
		if err != nil {
			return nil, err
		}
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		}
		if path != wsFile {
			l, err := readLayer(LayerExplicit, path, true)
			if err != nil {
				return nil, err
			}
			layers = append(layers, l)
		}
	}
	return Merge(layers, o)
}

func readLayer(kind LayerKind, path string, mustExist bool) (*Layer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !mustExist {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot read policy file: %v", err),
			Fix: "check the path given with --policy"}
	}
	return ParseFile(kind, path, data)
}

func canonicalDir(dir string) (string, error) {
	if dir == "" {
		return "", &Error{Msg: "no workspace given"}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", &Error{Msg: fmt.Sprintf("workspace %s: %v", abs, errors.Unwrap(err)),
			Fix: "run cordon from the project directory or pass --workspace DIR"}
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", &Error{Msg: fmt.Sprintf("workspace %s is not a directory", real),
			Fix: "pass a directory with --workspace"}
	}
	return real, nil
}

// insideDir reports whether path is dir or lies below it (both clean).
func insideDir(path, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// expandPath turns ~ and ~/x into home paths and cleans absolute paths.
// Relative paths are cleaned and returned relative.
func expandPath(p, home string) string {
	switch {
	case p == "~":
		return home
	case strings.HasPrefix(p, "~/"):
		return filepath.Join(home, p[2:])
	case strings.HasPrefix(p, "/"):
		return filepath.Clean(p)
	}
	return filepath.Clean(p)
}
