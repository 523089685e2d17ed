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

	// noWorkspace: there is no workspace (Validate of the user's own file);
	// the checks of the workspace as a writable root are skipped.
	noWorkspace bool
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
		l, err := readLayer(LayerUser, path, explicitUser, o.Home)
		if err != nil {
			return nil, err
		}
		if l != nil {
			layers = append(layers, l)
		}
	}
	wsFile := filepath.Join(ws, WorkspaceFile)
	if l, err := readLayer(LayerWorkspace, wsFile, false, o.Home); err != nil {
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
			l, err := readLayer(LayerExplicit, path, true, o.Home)
			if err != nil {
				return nil, err
			}
			layers = append(layers, l)
		}
	}
	p, err := Merge(layers, o)
	if err != nil {
		return nil, err
	}
	if err := p.checkHost(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkHost checks what the merged policy asks of this machine's file
// system, as the sandbox will when it starts: every writable root exists.
// Merge does not (it reads no files); Load and Validate do, so that a policy
// that cannot run is refused, at its file and line, before anything starts.
func (p *Policy) checkHost() error {
	if p.Mode.Value != ModeWorkspaceWrite {
		return nil // no writable roots beyond the private temp dir
	}
	var errs []error
	for _, r := range p.Filesystem.Writable {
		if _, err := filepath.EvalSymlinks(r.Value); err != nil {
			msg := fmt.Sprintf("writable root %s does not exist", r.Value)
			if !errors.Is(err, fs.ErrNotExist) {
				msg = fmt.Sprintf("writable root %s cannot be resolved: %v", r.Value, errors.Unwrap(err))
			}
			errs = append(errs, &FileError{File: r.From.File, Line: r.From.Line, Key: "filesystem.writable", Msg: msg,
				Fix: fmt.Sprintf("create it (mkdir -p %s) or remove it from the policy", r.Value)})
		}
	}
	return errors.Join(errs...)
}

// Validate checks one policy file the way cordon run would use it, and
// starts nothing:
//
//   - with o.Workspace set, as the file named with --policy in that
//     workspace (untrusted when it lies inside it), over the built-in
//     default, the user's own file and the workspace's file;
//   - a workspace's own file (DIR/.cordon/policy.toml), as the untrusted
//     layer of workspace DIR, over the built-in default and the user's own
//     file;
//   - any other file as the user's own file over the built-in default.
//
// It checks everything Load checks, the writable roots on this machine
// included. o.ExplicitFile and o.UserFile are ignored.
func Validate(path string, o Options) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	o.ExplicitFile, o.UserFile = "", ""
	switch {
	case o.Workspace != "":
		o.ExplicitFile = abs
		_, err := Load(o)
		return err
	case filepath.Base(abs) == filepath.Base(WorkspaceFile) && filepath.Base(filepath.Dir(abs)) == filepath.Dir(WorkspaceFile):
		o.Workspace = filepath.Dir(filepath.Dir(abs))
		_, err := Load(o)
		return err
	}
	if o.Home == "" || !filepath.IsAbs(o.Home) {
		return &Error{Msg: fmt.Sprintf("home directory %q is not an absolute path", o.Home),
			Fix: "set HOME to your home directory"}
	}
	builtin, err := ParseFile(LayerBuiltin, "builtin", builtinTOML)
	if err != nil {
		return fmt.Errorf("built-in policy: %w", err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return &Error{Msg: fmt.Sprintf("cannot read %s: %v", path, err), Fix: "check the path"}
	}
	l, err := ParseFile(LayerUser, abs, data)
	if err != nil {
		return err
	}
	o.noWorkspace = true
	p, err := Merge([]*Layer{builtin, l}, o)
	if err != nil {
		return err
	}
	return p.checkHost()
}

func readLayer(kind LayerKind, path string, mustExist bool, home string) (*Layer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !mustExist {
		return nil, nil
	}
	if err != nil {
		return nil, readError(kind, path, err, home)
	}
	return ParseFile(kind, path, data)
}

// readError says which layer's file could not be read, and what to do. A
// file that exists but cannot be read is never skipped: it may hold rules
// that tighten the policy.
func readError(kind LayerKind, path string, err error, home string) error {
	why := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		why = pe.Err
	}
	switch kind {
	case LayerUser:
		fix := "check that it is a policy file you can read"
		if errors.Is(err, fs.ErrPermission) {
			where := fmt.Sprintf("your home directory is %s", home)
			if x := os.Getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
				where = "XDG_CONFIG_HOME is " + x
			}
			fix = "cordon does not run without your own policy file, since it may tighten the policy\n" +
				fmt.Sprintf("give your user read access to it and search access to the directories above it (%s), or set XDG_CONFIG_HOME to a directory you can read (cordon then reads XDG_CONFIG_HOME/cordon/policy.toml, if there is one)", where)
		}
		return &Error{Msg: fmt.Sprintf("cannot read your policy file %s: %v", path, why), Fix: fix}
	case LayerWorkspace:
		return &Error{Msg: fmt.Sprintf("cannot read the workspace's policy file %s: %v", path, why),
			Fix: "it may tighten the policy, so cordon does not run without it: make it readable to you, or remove it"}
	case LayerExplicit:
		return &Error{Msg: fmt.Sprintf("cannot read the policy file given with --policy, %s: %v", path, why),
			Fix: "check the path given with --policy"}
	}
	return &Error{Msg: fmt.Sprintf("cannot read policy file %s: %v", path, why)}
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
