package mcpserver

import (
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/policy"
)

func testPolicy(t *testing.T, ws, home string, flags policy.Flags) *policy.Policy {
	t.Helper()
	p, err := policy.Load(policy.Options{Workspace: ws, Home: home, NoUserFile: true, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRedactor(t *testing.T) {
	home := t.TempDir()
	ws := home + "/src/proj"
	mkdirs(t, ws)
	p := testPolicy(t, ws, home, policy.Flags{})
	r := newRedactor(ws, p, []string{
		"GITHUB_TOKEN=ghp_supersecretvalue",
		"MY_API_KEY=k3y-material-xyz",
		"PATH=/usr/bin:/bin", // passed to commands: not a secret
		"SHORT_TOKEN=abc",    // too short to redact safely
	})
	for in, want := range map[string]string{
		"token ghp_supersecretvalue leaked":              "token <withheld> leaked",
		"key=k3y-material-xyz":                           "key=<withheld>",
		"open " + home + "/.ssh/id_rsa: denied":          "open <path outside the workspace>: denied",
		"create " + ws + "/sub/x: exists":                "create " + ws + "/sub/x: exists",
		"workspace " + ws + ".":                          "workspace " + ws + ".",
		"sibling " + ws + "-evil/x":                      "sibling <path outside the workspace>",
		"see ~/.config/cordon/policy.toml":               "see <path outside the workspace>",
		`quoted "/etc/shadow" and '/root'`:               `quoted "<path outside the workspace>" and '<path outside the workspace>'`,
		"(/var/lib/x)":                                   "(<path outside the workspace>)",
		"read/write stays":                               "read/write stays",
		"PATH is /usr/bin:/bin":                          "PATH is <path outside the workspace>:<path outside the workspace>",
		"no paths here, abc":                             "no paths here, abc",
		"/at/start":                                      "<path outside the workspace>",
		"ws traversal " + ws + "/../../../etc/passwd ok": "ws traversal <path outside the workspace> ok",
	} {
		if got := r.clean(in); got != want {
			t.Errorf("clean(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	if strings.Contains(r.clean("abc"), "<withheld>") {
		t.Errorf("a short value was redacted")
	}
}
