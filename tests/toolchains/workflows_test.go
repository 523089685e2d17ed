//go:build linux

package toolchains

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/testutil/mcpclient"
)

// A workflow is a week of an agent's work in small: the commands it runs in
// a real Go, Node or Python project, each checked by what it printed.
type workflow struct {
	name  string
	tools []string
	// registry: the workflow downloads from it (through cordon's proxy);
	// the test is skipped when the host cannot reach it either.
	registry string
	files    map[string]string
	steps    []step
	// fresh: each front end gets a new project (the steps cannot be run
	// twice); the others share one, as one agent's session would, and the
	// second and third front ends find the caches the first filled.
	fresh bool
}

type step struct {
	command string // a shell command line, as an agent sends it
	want    string // printed by the command when it did its job
}

var workflows = []workflow{
	{
		name: "go: a dependency from the module proxy, vet, test, build", tools: []string{"go"},
		registry: "https://proxy.golang.org/github.com/google/uuid/@v/list",
		files: map[string]string{
			"go.mod":       "module example.com/ids\n\ngo 1.26\n",
			"ids.go":       "package ids\n\nimport \"github.com/google/uuid\"\n\nfunc New() string { return uuid.NewString() }\n",
			"ids_test.go":  "package ids\n\nimport \"testing\"\n\nfunc TestNew(t *testing.T) {\n\tif len(New()) != 36 {\n\t\tt.Fatal(New())\n\t}\n}\n",
			"cmd/main.go":  "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/ids\"\n)\n\nfunc main() { fmt.Println(len(ids.New())) }\n",
			".gitignore":   "/ids-bin\n",
			"README.md":    "ids\n",
			"docs/todo.md": "- more\n",
		},
		steps: []step{
			{"go get github.com/google/uuid@v1.6.0 && echo got-it", "got-it"},
			{"go vet ./... && echo vet-ok", "vet-ok"},
			{"go test ./...", "ok  \texample.com/ids"},
			{"go build -o ids-bin ./cmd && ./ids-bin", "36"},
			{"grep -rn uuid --include=*.go . | wc -l", "2"},
		},
	},
	{
		name: "node: a package from the npm registry, npm test", tools: []string{"npm", "node"},
		registry: "https://registry.npmjs.org/is-number",
		files: map[string]string{
			"package.json": `{"name":"calc","version":"1.0.0","scripts":{"test":"node test.js"}}` + "\n",
			"test.js":      "const isNumber = require('is-number'); if (!isNumber(5)) process.exit(1); console.log('npm-test-ok');\n",
		},
		steps: []step{
			{"npm install is-number@7.0.0 && echo installed", "installed"},
			{"npm test", "npm-test-ok"},
			{"npm ls is-number", "is-number@7.0.0"},
		},
	},
	{
		name: "python: pytest, a dev server on loopback", tools: []string{"/usr/bin/python3", "curl"},
		files: map[string]string{
			"calc/__init__.py":   "def add(a, b):\n    return a + b\n",
			"tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
			"pyproject.toml":     "[tool.pytest.ini_options]\npythonpath = [\".\"]\n",
			"public/index.html":  "dev-server-page\n",
		},
		steps: []step{
			{"/usr/bin/python3 -m pytest -q -p no:cacheprovider", "1 passed"},
			{"(/usr/bin/python3 -m http.server 8765 --bind 127.0.0.1 --directory public >/dev/null 2>&1 &) ; for i in $(seq 50); do curl -fsS http://127.0.0.1:8765/ && break; sleep 0.1; done", "dev-server-page"},
		},
	},
	{
		name: "git: commit, branch, worktree", tools: []string{"git"}, fresh: true,
		files: map[string]string{"main.txt": "v1\n"},
		steps: []step{
			{"git init -q . && git add -A && git commit -qm first && echo committed", "committed"},
			{"git switch -q -c feature && echo v2 > main.txt && git commit -qam second && git log --oneline | wc -l", "2"},
			{"git worktree add -q side main && git worktree list | wc -l", "2"},
			{"git status --short && git diff main --stat | tail -1", "1 file changed"},
		},
	},
}

// frontEnds are the ways an agent sends a command: `cordon run`, a shell
// wrapper (`cordon shell -c`), and an MCP client of `cordon mcp`, whose one
// server serves every step of a workflow from warm sandboxes.
var frontEnds = []string{"run", "shell", "mcp"}

// TestAgentWorkflows runs each workflow through each front end with the
// built-in policy, the package-registries preset and an approver that says
// yes (so a dependency install, which the rules ask about, runs once a
// human agreed), and checks each step did its job. docs/agents.md lists
// these workflows and their results.
func TestAgentWorkflows(t *testing.T) {
	for _, w := range workflows {
		t.Run(w.name, func(t *testing.T) {
			need(t, w.tools...)
			if w.registry != "" && !reachable(w.registry) {
				t.Skipf("%s is not reachable from this host either; the workflow needs its registry", w.registry)
			}
			var shared *project
			if !w.fresh {
				shared = newWorkflowProject(t, w.files)
			}
			for _, fe := range frontEnds {
				t.Run(fe, func(t *testing.T) {
					p := shared
					if w.fresh {
						p = newWorkflowProject(t, w.files)
					}
					run := p.frontEnd(t, fe)
					defer run.close()
					for _, s := range w.steps {
						out, err := run.step(s.command)
						if err != nil || !strings.Contains(out, s.want) {
							t.Fatalf("%s: %q: %v, want %q in:\n%s", fe, s.command, err, s.want, out)
						}
					}
				})
			}
		})
	}
}

// newWorkflowProject makes a project with the user's policy of an agent's
// machine: the built-in policy, the package-registries preset, and an
// approver that says yes.
func newWorkflowProject(t *testing.T, files map[string]string) *project {
	p := newProject(t, files)
	approver := filepath.Join(p.home, "approve.sh")
	os.WriteFile(approver, []byte("#!/bin/sh\ncat >/dev/null\necho '{\"decision\": \"allow\", \"scope\": \"once\", \"approver\": \"test\"}'\n"), 0o755)
	// This build machine serves the registries from a documentation
	// (TEST-NET) address, which the proxy refuses unless allow_private
	// names the host.
	p.userPolicy(fmt.Sprintf("version = 1\n[network]\nmode = \"proxy\"\npresets = [\"package-registries\"]\n"+
		"allow_private = [\"proxy.golang.org\", \"sum.golang.org\", \"registry.npmjs.org\"]\n[approval]\napprover = [%q]\n", approver))
	os.WriteFile(filepath.Join(p.home, ".gitconfig"), []byte("[user]\n\tname = agent\n\temail = agent@example.com\n[init]\n\tdefaultBranch = main\n"), 0o644)
	return p
}

func reachable(url string) bool {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// runner sends the steps of a workflow through one front end.
type runner struct {
	step  func(command string) (string, error)
	close func()
}

func (p *project) env() []string {
	return []string{"HOME=" + p.home, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
}

func (p *project) frontEnd(t *testing.T, fe string) runner {
	t.Helper()
	oneShot := func(args ...string) func(string) (string, error) {
		return func(command string) (string, error) {
			cmd := exec.Command(cordonBin, append(args, command)...)
			cmd.Dir, cmd.Env = p.ws, p.env()
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
	}
	switch fe {
	case "run":
		return runner{step: oneShot("run", "--", "/bin/sh", "-c"), close: func() {}}
	case "shell":
		return runner{step: oneShot("shell", "-c"), close: func() {}}
	}
	cmd := exec.Command(cordonBin, "mcp")
	cmd.Dir, cmd.Env = p.ws, p.env()
	c, err := mcpclient.Start(cmd, "workflows")
	if err != nil {
		t.Fatal(err)
	}
	return runner{
		step: func(command string) (string, error) {
			r, raw, err := c.RunCommand(map[string]any{"command": command})
			if err != nil {
				return "", err
			}
			if !r.Ran || r.ExitCode != 0 {
				return string(raw), fmt.Errorf("ran %v, exit %d", r.Ran, r.ExitCode)
			}
			return r.Stdout + r.Stderr, nil
		},
		close: func() { c.Close() },
	}
}
