package gitguard

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Configs as git writes them stay whole.
func TestGitsOwnConfigsAreSafe(t *testing.T) {
	for name, cfg := range map[string]string{
		"init": "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n",
		"clone": "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n" +
			"[remote \"origin\"]\n\turl = https://github.com/example/repo.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n" +
			"[branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n",
		"user and lfs": "[user]\n\tname = A B\n\temail = a@b.c\n[lfs]\n\trepositoryformatversion = 0\n" +
			"[filter \"lfs\"]\n\tclean = git-lfs clean -- %f\n\tsmudge = git-lfs smudge -- %f\n\tprocess = git-lfs filter-process\n\trequired = true\n",
	} {
		safe, dropped, err := Filter([]byte(cfg))
		if err != nil || len(dropped) != 0 {
			t.Errorf("%s: dropped %v, err %v", name, dropped, err)
		}
		a, _ := Parse([]byte(cfg))
		b, _ := Parse(safe)
		if !slices.Equal(a, b) {
			t.Errorf("%s: filtering changed the settings:\n%v\n%v", name, a, b)
		}
	}
}

// Every way a planted config makes git run a program is dropped.
func TestProgramsAreDropped(t *testing.T) {
	for _, c := range []struct{ cfg, key string }{
		{"[core]\n\tfsmonitor = ./evil\n", "core.fsmonitor"},
		{"[core]\n\thooksPath = evil-hooks\n", "core.hookspath"},
		{"[core]\n\tpager = sh -c evil\n", "core.pager"},
		{"[core]\n\tsshCommand = evil\n", "core.sshcommand"},
		{"[core]\n\teditor = evil\n", "core.editor"},
		{"[alias]\n\tst = !evil\n", "alias.st"},
		{"[include]\n\tpath = ../evil.cfg\n", "include.path"},
		{"[includeIf \"gitdir:/\"]\n\tpath = ../evil.cfg\n", "includeif.gitdir:/.path"},
		{"[filter \"x\"]\n\tclean = evil\n", "filter.x.clean"},
		{"[filter \"lfs\"]\n\tsmudge = evil\n", "filter.lfs.smudge"},
		{"[diff \"x\"]\n\ttextconv = evil\n", "diff.x.textconv"},
		{"[merge \"x\"]\n\tdriver = evil\n", "merge.x.driver"},
		{"[credential]\n\thelper = !evil\n", "credential.helper"},
		{"[gpg]\n\tprogram = evil\n", "gpg.program"},
		{"[remote \"o\"]\n\turl = ext::sh -c evil\n", "remote.o.url"},
		{"[remote \"o\"]\n\tuploadpack = evil\n", "remote.o.uploadpack"},
		{"[submodule \"s\"]\n\tupdate = !evil\n", "submodule.s.update"},
		{"[protocol \"ext\"]\n\tallow = always\n", "protocol.ext.allow"},
		// Spellings git accepts.
		{"[CORE]\n\tFSMonitor = ./evil\n", "core.fsmonitor"},
		{"[core] fsmonitor = ./evil\n", "core.fsmonitor"},
		{"[core]\nfsmonitor=\"./e\"\\\n\"vil\"\n", "core.fsmonitor"},
		{"[core.x]\n\tfsmonitor = evil\n", "core.x.fsmonitor"},
	} {
		_, dropped, err := Filter([]byte(c.cfg))
		if err != nil {
			t.Errorf("%q: %v", c.cfg, err)
			continue
		}
		if !slices.ContainsFunc(dropped, func(d string) bool { return strings.HasPrefix(d, c.key+":") }) {
			t.Errorf("%q: %s kept (dropped: %v)", c.cfg, c.key, dropped)
		}
	}
}

func TestUnparsableConfigIsUnsafe(t *testing.T) {
	for _, cfg := range []string{"[core\n", "key = 1\n", "[core]\n\tbad key = 1\n", "[core]\n\tx = \"open\n", "[core]\n\tx = \\q\n"} {
		if _, dropped, err := Filter([]byte(cfg)); err == nil || len(dropped) == 0 {
			t.Errorf("%q parsed: %v", cfg, dropped)
		}
	}
}

// The parser reads what git reads: git config --list on the same files.
func TestParseAgreesWithGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	for _, cfg := range []string{
		"[core]\n\tfsmonitor = ./evil\n\tbare\n",
		"[Remote \"Origin\"]\n\tURL = \"a b\" ; comment\n\tfetch = x # c\n",
		"[a.B]\n\tc = d\n",
		"[x]\n\tv = one\\\n two\n\tw = \"q\\\"\\\\\\t\"\n",
		"[x] y = 1\n[z \"s\\\"q\"]\n\tk = v\n",
	} {
		f := filepath.Join(t.TempDir(), "config")
		os.WriteFile(f, []byte(cfg), 0o644)
		out, err := exec.Command(git, "config", "--file", f, "--list", "--null").Output()
		if err != nil {
			t.Fatalf("git on %q: %v", cfg, err)
		}
		var want []string
		for _, kv := range bytes.Split(bytes.TrimSuffix(out, []byte{0}), []byte{0}) {
			k, v, ok := strings.Cut(string(kv), "\n")
			if !ok {
				v = "true" // git prints bare keys without a value
			}
			want = append(want, k+"="+v)
		}
		settings, err := Parse([]byte(cfg))
		if err != nil {
			t.Fatalf("%q: %v", cfg, err)
		}
		var got []string
		for _, s := range settings {
			v := s.Value
			if s.Bare {
				v = "true"
			}
			got = append(got, s.Key()+"="+v)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q:\n got %q\nwant %q", cfg, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("[core]\n\tfsmonitor = x\n"))
	f.Add([]byte("[a \"b\"]\nc=\"d\\\"e\"\\\nf\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		safe, _, err := Filter(data)
		if err != nil {
			return
		}
		// What Filter keeps parses back to safe settings only.
		again, err := Parse(safe)
		if err != nil {
			t.Fatalf("Filter output does not parse: %v\n%q", err, safe)
		}
		for _, s := range again {
			if ok, why := Safe(s); !ok {
				t.Fatalf("Filter kept %s (%s)", s.Key(), why)
			}
		}
	})
}
