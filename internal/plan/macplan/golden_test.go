package macplan

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.sb from the planner's output")

type namedSetup struct {
	name  string
	setup setup
}

// goldenSetups is the table of policies whose profiles are kept in
// testdata: a change to any profile shows in review.
func goldenSetups() []namedSetup {
	host := func() *fakeFS {
		f := macHost()
		f.socket(home + "/.colima/docker.sock")
		return f
	}
	return []namedSetup{
		{"default", setup{}},
		{"read-only", setup{readOnly: true}},
		{"proxy", setup{fs: host(),
			user: "[network]\nmode = \"proxy\"\nallow = [\"github.com\", \"*.npmjs.org\"]\n[filesystem]\nhost_sockets = [\"~/.colima/docker.sock\"]\n",
			mod: func(in *Input) {
				in.Stdio = []Stdio{{FD: 0, Path: "/dev/ttys003", Terminal: true}, {FD: 1, Path: "/dev/ttys003", Terminal: true}, {FD: 2, Path: home + "/build.log"}}
			}}},
		{"full-network", setup{user: "[network]\nmode = \"full\"\n"}},
		{"extra-root", setup{fs: func() *fakeFS {
			f := macHost()
			f.dir("/Users/ada/src/lib").hardlink(ws + "/src/shared.txt")
			return f
		}(), user: "[filesystem]\nwritable = [\"/Users/ada/src/lib\"]\nprotected = [\"secrets.d\"]\n"}},
		{"full-access", setup{flags: flagsFullAccess()}},
	}
}

func TestGoldenProfiles(t *testing.T) {
	for _, s := range goldenSetups() {
		t.Run(s.name, func(t *testing.T) {
			c := compile(t, s.setup)
			var b strings.Builder
			fmt.Fprintf(&b, "; golden profile %q (internal/plan/macplan, go test -run TestGoldenProfiles -update)\n", s.name)
			if c.plan.FullAccess {
				fmt.Fprintf(&b, "; mode full-access: no profile; the command runs as %q\n", c.plan.ExecArgv())
			} else {
				b.WriteString("; parameters (sandbox-exec -DKEY=VALUE):\n")
				for _, p := range c.plan.Params {
					fmt.Fprintf(&b, ";   %s=%s  (%s)\n", p.Key, p.Value, p.Why)
				}
				b.WriteString(c.plan.Profile)
			}
			file := filepath.Join("testdata", s.name+".sb")
			if *update {
				if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("%s differs from the planner's output; if the change is meant, run go test -run TestGoldenProfiles -update and review the diff\n--- got ---\n%s", file, got)
			}
			// The golden file itself reads back as a valid profile.
			if !c.plan.FullAccess {
				forms, err := readAll(string(want))
				if err == nil {
					_, err = check(forms)
				}
				if err != nil {
					t.Errorf("%s does not read back: %v", file, err)
				}
			}
		})
	}
}
