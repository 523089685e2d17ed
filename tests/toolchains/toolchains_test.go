//go:build linux

// Package toolchains checks that real build tools work under `cordon run`
// with the built-in default policy, and that their caches land in the
// workspace's private cache instead of the host's: a poisoned host cache
// would run code later, outside the sandbox.
package toolchains

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

const testBase = testbin.Base

var cordonBin string

func TestMain(m *testing.M) {
	testbin.Main(m, map[string]*string{"cordon": &cordonBin}, map[string]string{"cordon": testbin.Cordon})
}

// project is a fresh home with a workspace in it, so that "the host's
// caches" are the ones of this home and can be inspected.
type project struct {
	t    *testing.T
	home string
	ws   string
}

func newProject(t *testing.T, files map[string]string) *project {
	t.Helper()
	root, err := os.MkdirTemp(testBase, "cordon-toolchain-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	root, _ = filepath.EvalSymlinks(root)
	p := &project{t: t, home: filepath.Join(root, "home")}
	p.ws = filepath.Join(p.home, "src", "project")
	for name, content := range files {
		path := filepath.Join(p.ws, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(p.ws, 0o755)
	return p
}

// userPolicy writes the user's own policy file in the project's home.
func (p *project) userPolicy(content string) {
	path := filepath.Join(p.home, ".config", "cordon", "policy.toml")
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *project) cordon(argv ...string) string {
	p.t.Helper()
	cmd := exec.Command(cordonBin, append([]string{"run", "--"}, argv...)...)
	cmd.Dir = p.ws
	cmd.Env = []string{"HOME=" + p.home, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("cordon run %v: %v\n%s", argv, err, out)
	}
	return string(out)
}

// privateCache is the workspace's cache directory cordon made.
func (p *project) privateCache() string {
	dirs, _ := filepath.Glob(filepath.Join(p.home, ".cache", "cordon", "workspaces", "project-*"))
	if len(dirs) != 1 {
		p.t.Fatalf("want one private cache dir, found %v", dirs)
	}
	return dirs[0]
}

func (p *project) mustNotExist(rel string, why string) {
	p.t.Helper()
	if _, err := os.Stat(filepath.Join(p.home, rel)); err == nil {
		p.t.Errorf("%s exists on the host: %s", rel, why)
	}
}

func (p *project) mustHaveEntries(dir, why string) {
	p.t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		p.t.Errorf("%s is empty or missing (%v): %s", dir, err, why)
	}
}

func need(t *testing.T, tools ...string) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			testbin.RequireOrSkip(t, tool+" is not installed on this machine")
		}
	}
}

func TestGo(t *testing.T) {
	need(t, "go")
	p := newProject(t, map[string]string{
		"go.mod":           "module example.com/calc\n\ngo 1.26\n",
		"calc.go":          "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
		"calc_test.go":     "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal(\"Add\")\n\t}\n}\n",
		"cmd/calc/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/calc\"\n)\n\nfunc main() { fmt.Println(calc.Add(1, 2)) }\n",
	})
	if out := p.cordon("go", "test", "./..."); !strings.Contains(out, "ok  \texample.com/calc") {
		t.Fatalf("go test output: %s", out)
	}
	p.cordon("go", "build", "-o", "calc-bin", "./cmd/calc")
	if _, err := os.Stat(filepath.Join(p.ws, "calc-bin")); err != nil {
		t.Errorf("go build wrote no binary into the workspace: %v", err)
	}
	p.mustNotExist(".cache/go-build", "the host's Go build cache was written")
	p.mustHaveEntries(filepath.Join(p.privateCache(), "go-build"), "the build cache should be in the private cache")
}

func TestPython(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		testbin.RequireOrSkip(t, "no /usr/bin/python3 on this machine")
	}
	if err := exec.Command(py, "-c", "import pytest").Run(); err != nil {
		testbin.RequireOrSkip(t, "pytest is not installed for /usr/bin/python3 (Debian: python3-pytest)")
	}
	p := newProject(t, map[string]string{
		"calc/__init__.py":   "def add(a, b):\n    return a + b\n",
		"tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
		"pyproject.toml":     "[tool.pytest.ini_options]\npythonpath = [\".\"]\n",
	})
	out := p.cordon(py, "-m", "pytest", "-q", "-p", "no:cacheprovider")
	if !strings.Contains(out, "1 passed") {
		t.Fatalf("pytest output: %s", out)
	}
	if _, err := os.Stat(filepath.Join(p.ws, "calc", "__pycache__")); err == nil {
		t.Errorf("byte code was written into the workspace, where the host's python would load it later")
	}
	p.mustHaveEntries(filepath.Join(p.privateCache(), "pycache"), "byte code should be in the private cache")
	// The byte code itself, not only its directories: the private cache
	// is the sandbox's own, and writing .pyc files there is not refused.
	var pyc []string
	filepath.WalkDir(filepath.Join(p.privateCache(), "pycache"), func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".pyc") {
			pyc = append(pyc, path)
		}
		return nil
	})
	if len(pyc) == 0 || strings.Contains(out, "refused") {
		t.Errorf("no byte code was kept in the private cache (%d files), or writing it was refused:\n%s", len(pyc), out)
	}
}

func TestNpm(t *testing.T) {
	need(t, "npm", "node")
	p := newProject(t, map[string]string{
		"package.json": `{"name":"calc","version":"1.0.0","scripts":{"test":"node test.js"}}` + "\n",
		"test.js":      "const assert = require('assert'); assert.strictEqual(2 + 3, 5); console.log('npm-test-ok');\n",
	})
	if out := p.cordon("npm", "test"); !strings.Contains(out, "npm-test-ok") {
		t.Fatalf("npm test output: %s", out)
	}
	p.mustNotExist(".npm", "the host's npm cache was written")
}

func TestCargo(t *testing.T) {
	need(t, "cargo")
	p := newProject(t, map[string]string{
		"Cargo.toml":  "[package]\nname = \"calc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"src/main.rs": "fn add(a: i32, b: i32) -> i32 { a + b }\nfn main() { println!(\"{}\", add(1, 2)); }\n#[cfg(test)]\nmod tests { #[test] fn adds() { assert_eq!(super::add(2, 3), 5); } }\n",
	})
	// rustup finds its toolchains through these when they are not in the
	// (fake) home; passing them is the user's explicit choice.
	var pass []string
	for _, k := range []string{"RUSTUP_HOME", "CARGO_HOME"} {
		if os.Getenv(k) == "" {
			home, _ := os.UserHomeDir()
			os.Setenv(k, filepath.Join(home, "."+strings.ToLower(strings.TrimSuffix(k, "_HOME"))))
			defer os.Unsetenv(k)
		}
		pass = append(pass, fmt.Sprintf("%q", k))
	}
	p.userPolicy("version = 1\n[environment]\npass = [" + strings.Join(pass, ", ") + "]\n")
	cmd := exec.Command(cordonBin, "run", "--", "cargo", "test", "-q", "--offline")
	cmd.Dir = p.ws
	cmd.Env = []string{"HOME=" + p.home, "PATH=" + os.Getenv("PATH"), "RUSTUP_HOME=" + os.Getenv("RUSTUP_HOME"), "CARGO_HOME=" + os.Getenv("CARGO_HOME")}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 passed") {
		t.Fatalf("cargo test: %v\n%s", err, out)
	}
}

func TestMake(t *testing.T) {
	need(t, "make", "cc")
	p := newProject(t, map[string]string{
		"Makefile": "calc: calc.c\n\tcc -o calc calc.c\n\ntest: calc\n\t./calc | grep -q 5 && echo make-test-ok\n",
		"calc.c":   "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 2 + 3); return 0; }\n",
	})
	if out := p.cordon("make", "test"); !strings.Contains(out, "make-test-ok") {
		t.Fatalf("make test output: %s", out)
	}
}

// TestLoopback: test suites serve and connect on 127.0.0.1; the sandbox's
// network namespace has a working loopback (and nothing else).
func TestLoopback(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		testbin.RequireOrSkip(t, "no /usr/bin/python3 on this machine")
	}
	p := newProject(t, nil)
	script := "import socket\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen()\nc = socket.create_connection(s.getsockname())\nc.sendall(b'x')\na, _ = s.accept()\nassert a.recv(1) == b'x'\nprint('loopback-ok')\n"
	if out := p.cordon(py, "-c", script); !strings.Contains(out, "loopback-ok") {
		t.Fatalf("loopback inside the sandbox: %s", out)
	}
}

// TestExitStatuses: cordon passes the command's status through and uses the
// shell's codes for what keeps it from running.
func TestExitStatuses(t *testing.T) {
	p := newProject(t, map[string]string{"not-executable.sh": "echo hi\n"})
	cases := []struct {
		argv []string
		want int
	}{
		{[]string{"sh", "-c", "exit 3"}, 3},
		{[]string{"sh", "-c", "kill -TERM $$"}, 128 + 15},
		{[]string{"no-such-command-anywhere"}, 127},
		{[]string{"./no-such-file"}, 127},
		{[]string{"./not-executable.sh"}, 126},
		{[]string{"--timeout", "1s", "--", "sleep", "30"}, 124},
	}
	for _, c := range cases {
		args := append([]string{"run", "--"}, c.argv...)
		if c.argv[0] == "--timeout" {
			args = append([]string{"run"}, c.argv...)
		}
		cmd := exec.Command(cordonBin, args...)
		cmd.Dir = p.ws
		cmd.Env = []string{"HOME=" + p.home, "PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != c.want {
			t.Errorf("cordon %v: exit %d, want %d: %s", args, code, c.want, out)
		}
	}
}

// The git workflows an agent runs: a repository made in the run (init,
// commit, branch), a linked worktree of an existing repository, a clone of
// a local repository, and a submodule already registered, updated inside.
// They must work; what cordon refuses is only the control files of
// repositories that existed before the run.
func TestGit(t *testing.T) {
	need(t, "git")
	p := newProject(t, nil)
	hostGit := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=u", "-c", "user.email=u@x", "-c", "protocol.file.allow=always"}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + p.home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	// A local "remote", outside the workspace, and the user's git config.
	remote := filepath.Join(p.home, "remote")
	os.MkdirAll(remote, 0o755)
	hostGit(remote, "init", "-q")
	hostGit(remote, "commit", "-q", "--allow-empty", "-m", "remote")
	os.WriteFile(filepath.Join(p.home, ".gitconfig"), []byte("[user]\n\tname = u\n\temail = u@x\n[protocol \"file\"]\n\tallow = always\n"), 0o644)

	// Without a repository: one made in the run.
	out := p.cordon("sh", "-c", "git init -q . && git commit -q --allow-empty -m first && git switch -q -c feature && git log --oneline && echo git-init-ok")
	if !strings.Contains(out, "git-init-ok") {
		t.Fatalf("git init and commit in the run: %s", out)
	}
	// Now an existing repository: a worktree, a clone, a submodule update.
	hostGit(p.ws, "submodule", "add", "-q", remote, "sm")
	hostGit(p.ws, "commit", "-q", "-m", "submodule")
	os.RemoveAll(filepath.Join(p.ws, "sm"))
	os.MkdirAll(filepath.Join(p.ws, "sm"), 0o755)
	os.RemoveAll(filepath.Join(p.ws, ".git", "modules"))
	out = p.cordon("sh", "-c", `git worktree add -q wt && git -C wt log --oneline -1 && git clone -q "$0" cl && git -C cl log --oneline -1 && git submodule update -q && git -C sm log --oneline -1 && git commit -q --allow-empty -m more && echo git-ok`, remote)
	if !strings.Contains(out, "git-ok") {
		t.Fatalf("git worktree, clone and submodule update in the run: %s", out)
	}
	if strings.Contains(out, "disarmed") {
		t.Errorf("a clean repository made in the run was disarmed: %s", out)
	}
}
