// Package trackedsecrets finds secrets that git keeps readable inside the
// sandbox. cordon masks the workspace files that match the policy's
// deny_read patterns (.env, .env.*), but when git tracks such a file, or
// tracked it once, its contents stay in .git's objects, which a sandboxed
// command can read: `git show HEAD:.env`, `git log -p`. Find lists those
// paths, so that `cordon run --explain`, `-v` and `cordon doctor` can say so
// and the user can remove them from history or rotate them.
//
// # What it reports
//
// A path is reported when git tracks it now (it is in the index:
// `git ls-files`) or a commit reachable from any ref or reflog added it
// (`git log --all --reflog --diff-filter=A`), it lies below the directory
// scanned, it matches a relative deny pattern and no allow pattern. The
// patterns mean what they mean to the Linux planner (see Matches). Objects
// that no ref or reflog reaches any more (a dropped stash, before gc) are
// not searched.
//
// # Budgets
//
// The index is always read whole. The history scan stops at whichever comes
// first: Options.Timeout for the whole call (DefaultTimeout), Options.MaxCommits
// commits that add files (DefaultMaxCommits), DefaultMaxOutput bytes of git's
// output or DefaultMaxFindings paths. A scan that stopped early says so
// (Report.Incomplete); it never fails for it.
//
// # Running git safely
//
// git reads the repository's own config, and several keys there name
// programs git runs: core.fsmonitor even runs for `git ls-files`. The
// repository is not trusted, so every git command runs
//
//   - with an environment built from nothing: PATH (without entries that
//     are relative or inside the scanned directory), GIT_CONFIG_NOSYSTEM=1,
//     GIT_CONFIG_GLOBAL set to the null device, GIT_TERMINAL_PROMPT=0,
//     GIT_OPTIONAL_LOCKS=0 (nothing is written), GIT_NO_REPLACE_OBJECTS=1
//     (replace refs cannot hide history), LC_ALL=C;
//   - with -c overrides, which beat every config file: core.fsmonitor=false,
//     core.hooksPath set to the null device, core.pager=cat,
//     log.showSignature=false (gpg.program never runs), gc.auto=0,
//     maintenance.auto=false; and --no-pager, --no-ext-diff, --no-textconv,
//     --no-show-signature where they apply;
//   - from a git binary found on PATH outside the scanned directory, and not
//     a link into it (a workspace can hold a file named git, and
//     node_modules/.bin is often on PATH), under a timeout, and killed when
//     the budget runs out.
//
// A directory that is not in a git work tree, a git that is not installed,
// and a repository git refuses (safe.directory) all give an empty Report
// and no error.
//
// # Example
//
//	rep, err := trackedsecrets.Find(ctx, workspace, trackedsecrets.Options{
//		Deny:  policy.Values(p.Filesystem.DenyRead),
//		Allow: policy.Values(p.Filesystem.AllowRead),
//	})
//	if err == nil && len(rep.Findings) > 0 {
//		fmt.Fprintln(os.Stderr, "cordon: warning:", rep.Message())
//	}
//
// prints, for a repository that tracks .env and once committed
// config/.env.prod:
//
//	cordon: warning: secrets tracked by git are readable through git objects: .env (tracked), config/.env.prod (in history); remove them from history (git filter-repo) or rotate them
package trackedsecrets

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// commitMarker is what git log prints for each commit (--format=%x01),
// before its names.
const commitMarker = "\x01"

// Budgets used when Options leaves them zero.
const (
	// DefaultTimeout bounds the whole call. Listing the index of a
	// repository with 100,000 files takes well under that; the history scan
	// uses what is left.
	DefaultTimeout = 3 * time.Second
	// DefaultMaxCommits bounds the commits the history scan reports on:
	// commits that add at least one file below the scanned directory (git
	// still walks the others, which the time budget bounds).
	DefaultMaxCommits = 100_000
	// DefaultMaxOutput bounds the bytes read from git log.
	DefaultMaxOutput = 64 << 20
	// DefaultMaxFindings bounds the paths reported.
	DefaultMaxFindings = 1000
)

// Options says what to look for and how much to spend on it.
type Options struct {
	// Deny are the policy's deny_read entries. Absolute and ~ entries are
	// ignored: they are outside the repository's paths.
	Deny []string
	// Allow are the policy's allow_read entries: relative patterns, and
	// absolute paths or globs matched against the file's absolute path.
	Allow []string
	// Git is the git program to run. Empty means "git" found on PATH,
	// skipping PATH entries that are relative or inside the scanned
	// directory.
	Git string
	// Timeout bounds the whole call; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxCommits bounds the history scan; zero means DefaultMaxCommits, a
	// negative value skips history.
	MaxCommits int
}

// Finding is one secret git holds.
type Finding struct {
	// Path is the file's path relative to the scanned directory, with
	// forward slashes.
	Path string `json:"path"`
	// Tracked: git tracks the file now (it is in the index).
	Tracked bool `json:"tracked"`
	// InHistory: a commit in history added the file.
	InHistory bool `json:"in_history"`
}

// Report is what Find found.
type Report struct {
	// Findings are sorted: tracked files first, then by path.
	Findings []Finding `json:"findings"`
	// Incomplete: the history scan stopped at a budget, so there may be
	// more.
	Incomplete bool `json:"incomplete,omitempty"`
}

// Find lists the paths below dir that match a deny pattern and that git
// tracks now or added in history. See the package documentation for what
// counts, the budgets and how git is run.
func Find(ctx context.Context, dir string, o Options) (Report, error) {
	var rep Report
	deny, allowRel, allowAbs := splitPatterns(o.Deny, o.Allow)
	if len(deny) == 0 {
		return rep, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return rep, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	g, ok := newGit(abs, o.Git)
	if !ok {
		return rep, nil // git is not installed
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if !g.insideWorkTree(ctx) {
		return rep, nil
	}
	denied := func(rel string) bool {
		if !matchesAny(deny, rel) || matchesAny(allowRel, rel) {
			return false
		}
		full := filepath.Join(abs, filepath.FromSlash(rel))
		for _, a := range allowAbs {
			if ok, _ := doublestar.Match(filepath.ToSlash(a), filepath.ToSlash(full)); ok {
				return false
			}
		}
		return true
	}
	found := map[string]*Finding{}
	add := func(rel string, tracked bool) bool {
		f := found[rel]
		if f == nil {
			if len(found) >= DefaultMaxFindings {
				return false
			}
			f = &Finding{Path: rel}
			found[rel] = f
		}
		if tracked {
			f.Tracked = true
		} else {
			f.InHistory = true
		}
		return true
	}

	// The index: read whole.
	stopped, err := g.stream(ctx, DefaultMaxOutput, func(name string) bool {
		if denied(name) {
			return add(name, true)
		}
		return true
	}, "ls-files", "-z", "--cached")
	if err != nil {
		if ctx.Err() != nil {
			return report(found, true), nil
		}
		return report(found, false), err
	}
	incomplete := stopped

	// History, within the budgets.
	max := o.MaxCommits
	if max == 0 {
		max = DefaultMaxCommits
	}
	if max > 0 && !incomplete {
		// Each commit that adds a file prints the marker, then its names.
		commits := 0
		stopped, err := g.stream(ctx, DefaultMaxOutput, func(name string) bool {
			if name == commitMarker {
				commits++
				return true
			}
			if denied(name) {
				return add(name, false)
			}
			return true
		}, "log", "--all", "--reflog", "--max-count="+strconv.Itoa(max),
			"--format=%x01", "--name-only", "-z", "--diff-filter=A", "--no-renames",
			"--relative", "--no-ext-diff", "--no-textconv", "--no-show-signature")
		switch {
		case ctx.Err() != nil:
			incomplete = true
		case err != nil:
			return report(found, incomplete), err
		default:
			// Exactly max commits may mean the limit cut the log.
			incomplete = stopped || commits >= max
		}
	}
	return report(found, incomplete), nil
}

// Message is the warning to show, or "" when nothing was found, for
// example:
//
//	secrets tracked by git are readable through git objects: .env (tracked), config/.env.prod (in history); remove them from history (git filter-repo) or rotate them
func (r Report) Message() string {
	if len(r.Findings) == 0 {
		return ""
	}
	const shown = 5
	var parts []string
	for i, f := range r.Findings {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(r.Findings)-shown))
			break
		}
		where := "in history"
		if f.Tracked {
			where = "tracked"
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", f.Path, where))
	}
	msg := "secrets tracked by git are readable through git objects: " + strings.Join(parts, ", ") +
		"; remove them from history (git filter-repo) or rotate them"
	if r.Incomplete {
		msg += " (the history scan stopped at its budget; there may be more)"
	}
	return msg
}

func report(found map[string]*Finding, incomplete bool) Report {
	r := Report{Incomplete: incomplete}
	for _, f := range found {
		r.Findings = append(r.Findings, *f)
	}
	sort.Slice(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Tracked != b.Tracked {
			return a.Tracked
		}
		return a.Path < b.Path
	})
	return r
}

// Matches reports whether a relative deny_read or allow_read pattern matches
// a path relative to a writable root (forward slashes): a pattern without a
// slash matches the base name at any depth, one with a slash matches the
// whole path. It is the planners' rule where names compare as bytes
// (internal/plan/unixplan, Host.MatchRel), and a test there holds the two
// together.
func Matches(pattern, rel string) bool {
	if !strings.Contains(pattern, "/") {
		ok, _ := doublestar.Match(pattern, baseName(rel))
		return ok
	}
	ok, _ := doublestar.Match(strings.TrimPrefix(pattern, "./"), rel)
	return ok
}

func baseName(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[i+1:]
	}
	return rel
}

func matchesAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		if Matches(p, rel) {
			return true
		}
	}
	return false
}

// splitPatterns keeps the relative deny patterns, and splits the allow
// entries into relative patterns and absolute ones.
func splitPatterns(deny, allow []string) (rel, allowRel, allowAbs []string) {
	isAbs := func(p string) bool {
		return filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~")
	}
	for _, d := range deny {
		if d != "" && !isAbs(d) {
			rel = append(rel, d)
		}
	}
	for _, a := range allow {
		switch {
		case a == "":
		case strings.HasPrefix(a, "~"):
			// Unexpanded home paths cannot name a file in the repository
			// the caller gave as an absolute directory.
		case isAbs(a):
			allowAbs = append(allowAbs, a)
		default:
			allowRel = append(allowRel, a)
		}
	}
	return rel, allowRel, allowAbs
}

// git runs one git binary in one directory, safely (package doc).
type git struct {
	path string
	dir  string
	env  []string
}

func newGit(dir, program string) (*git, bool) {
	path := program
	pathList := safePath(dir)
	if path == "" {
		path = lookGit(pathList, dir)
		if path == "" {
			return nil, false
		}
	} else if p, err := exec.LookPath(path); err == nil {
		path = p
	} else {
		return nil, false
	}
	env := []string{
		"PATH=" + strings.Join(pathList, string(os.PathListSeparator)),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_OPTIONAL_LOCKS=0",
		"GIT_NO_REPLACE_OBJECTS=1",
		"GIT_ATTR_NOSYSTEM=1",
		"GIT_PAGER=cat",
		"PAGER=cat",
		"LC_ALL=C",
	}
	if runtime.GOOS == "windows" {
		// Windows programs need these to start at all.
		for _, k := range []string{"SYSTEMROOT", "WINDIR"} {
			if v := os.Getenv(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
	}
	return &git{path: path, dir: dir, env: env}, true
}

// safePath is PATH without entries that are relative or lie inside dir.
func safePath(dir string) []string {
	var out []string
	for _, p := range filepath.SplitList(os.Getenv("PATH")) {
		if p == "" || !filepath.IsAbs(p) {
			continue
		}
		real := p
		if r, err := filepath.EvalSymlinks(p); err == nil {
			real = r
		}
		if inside(real, dir) || inside(filepath.Clean(p), dir) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// lookGit finds git on pathList, skipping a git that is a link into dir.
func lookGit(pathList []string, dir string) string {
	for _, p := range pathList {
		// LookPath on a path with a separator checks just that file (and,
		// on Windows, adds the executable extensions).
		found, err := exec.LookPath(filepath.Join(p, "git"))
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(found); err == nil && inside(real, dir) {
			continue
		}
		return found
	}
	return ""
}

func inside(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (g *git) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{
		"--no-pager",
		"-c", "core.fsmonitor=false",
		"-c", "core.hooksPath=" + os.DevNull,
		"-c", "core.pager=cat",
		"-c", "log.showSignature=false",
		"-c", "gc.auto=0",
		"-c", "maintenance.auto=false",
		"-C", g.dir,
	}, args...)
	cmd := exec.CommandContext(ctx, g.path, full...)
	cmd.Dir = g.dir
	cmd.Env = g.env
	cmd.Stdin = nil
	cmd.WaitDelay = time.Second
	return cmd
}

// insideWorkTree reports whether the directory is in a git work tree that
// git agrees to read.
func (g *git) insideWorkTree(ctx context.Context) bool {
	out, err := g.command(ctx, "rev-parse", "--is-inside-work-tree").Output()
	return err == nil && strings.TrimSpace(string(out)) == "true"
}

// stream runs git and calls fn with each NUL-separated name of its output
// until fn returns false or maxOutput bytes were read; it then stops git
// and reports stopped. A failure of git is an error with its message.
func (g *git) stream(ctx context.Context, maxOutput int64, fn func(string) bool, args ...string) (stopped bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := g.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return false, err
	}
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("starting %s: %w", g.path, err)
	}
	r := bufio.NewReaderSize(io.LimitReader(out, maxOutput), 64<<10)
	var read int64
	for {
		tok, rerr := r.ReadString(0)
		read += int64(len(tok))
		name := strings.Trim(strings.TrimSuffix(tok, "\x00"), "\n")
		if name != "" && !fn(name) {
			stopped = true
			break
		}
		if rerr != nil {
			if read >= maxOutput {
				stopped = true
			}
			break
		}
	}
	if stopped {
		cancel()
		_ = cmd.Wait()
		return true, nil
	}
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return false, fmt.Errorf("git %s: %s", args[0], strings.TrimSpace(stderr.String()))
		}
		return false, fmt.Errorf("git %s: %w", args[0], err)
	}
	return false, nil
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
