package winplan

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestWithProxy(t *testing.T) {
	env, err := withProxy([]string{
		`Path=C:\a`, `http_proxy=http://evil:1`, `no_proxy=*`, `PATH=C:\b`, `=C:=C:\src`, `HOME=x`,
	}, "http://cordon:s3cret@127.0.0.1:4321")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`PATH=C:\b`, `HTTP_PROXY=http://cordon:s3cret@127.0.0.1:4321`, `=C:=C:\src`, `HOME=x`,
		`HTTPS_PROXY=http://cordon:s3cret@127.0.0.1:4321`, `ALL_PROXY=http://cordon:s3cret@127.0.0.1:4321`,
	}
	if !slices.Equal(env, want) {
		t.Fatalf("env =\n%q\nwant\n%q", env, want)
	}

	env, err = withProxy(nil, "")
	if err != nil || envValue(env, "https_proxy") != deadProxy {
		t.Fatalf("no proxy: env = %q, %v; want the dead proxy", env, err)
	}
	for _, bad := range []string{"http://10.0.0.1:80", "socks5://127.0.0.1:1080", "http://user:pw@example.com:80"} {
		_, err := withProxy(nil, bad)
		if err == nil {
			t.Errorf("proxy %q accepted", bad)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error leaks the proxy secret: %v", err)
		}
	}
	if _, err := withProxy([]string{"NOEQUALS"}, ""); err == nil {
		t.Error("an entry without = was accepted")
	}
}

func TestEnvBlock(t *testing.T) {
	block, err := EnvBlock([]string{"b=2", "A=1", "=C:=C:\\x", "é=ü"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range strings.Split(string(utf16.Decode(block)), "\x00") {
		got = append(got, s)
	}
	want := []string{"=C:=C:\\x", "A=1", "b=2", "é=ü", "", ""}
	if !slices.Equal(got, want) {
		t.Fatalf("block = %q, want %q", got, want)
	}
	empty, _ := EnvBlock(nil)
	if !slices.Equal(empty, []uint16{0, 0}) {
		t.Fatalf("empty block = %v", empty)
	}
	if _, err := EnvBlock([]string{"A=1\x00B=2"}); err == nil {
		t.Fatal("an entry with NUL was accepted")
	}
}

// parseCommandLine splits a command line the way the Microsoft C runtime
// does (CommandLineToArgvW for arguments after the first), to check
// CommandLine from outside.
func parseCommandLine(s string) []string {
	var args []string
	var cur strings.Builder
	inQuotes, have := false, false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
					i++
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
			}
			have = true
			continue
		case c == '"':
			if inQuotes && i+1 < len(s) && s[i+1] == '"' {
				cur.WriteByte('"')
				i += 2
				continue
			}
			inQuotes = !inQuotes
			have = true
		case (c == ' ' || c == '\t') && !inQuotes:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
		i++
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

func TestCommandLine(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{`cmd.exe`, `/c`, `exit 7`}, `cmd.exe /c "exit 7"`},
		{[]string{`a`, ``}, `a ""`},
		{[]string{`a`, `b"c`}, `a "b\"c"`},
		{[]string{`a`, `C:\dir with space\`}, `a "C:\dir with space\\"`},
		{[]string{`a`, `x\\"y`}, `a "x\\\\\"y"`},
		{[]string{`a`, `C:\no\quote\`}, `a C:\no\quote\`},
	}
	for _, c := range cases {
		if got := CommandLine(c.args); got != c.want {
			t.Errorf("CommandLine(%q) = %s, want %s", c.args, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab \\\"\t")
	for i := 0; i < 5000; i++ {
		args := []string{"prog"}
		for j := r.IntN(4); j >= 0; j-- {
			b := make([]byte, r.IntN(8))
			for k := range b {
				b[k] = alphabet[r.IntN(len(alphabet))]
			}
			args = append(args, string(b))
		}
		if got := parseCommandLine(CommandLine(args)); !slices.Equal(got, args) {
			t.Fatalf("round trip of %q through %s gave %q", args, CommandLine(args), got)
		}
	}
}

func TestLookPath(t *testing.T) {
	files := map[string]bool{
		`c:\windows\system32\cmd.exe`: true,
		`c:\tools\npm.cmd`:            true,
		`c:\tools\git.exe`:            true,
		`c:\src\app\git.exe`:          true,
		`c:\src\app\bin\run.bat`:      true,
	}
	isFile := func(p string) bool { return files[strings.ToLower(p)] }
	env := []string{`Path=C:\Windows\System32;"C:\tools";relative\dir;`, `PATHEXT=.COM;.EXE;.BAT;.CMD`}
	cases := []struct{ file, want string }{
		{"cmd", `C:\Windows\System32\cmd.exe`},
		{"cmd.exe", `C:\Windows\System32\cmd.exe`},
		{"npm", `C:\tools\npm.cmd`},
		{"git", `C:\tools\git.exe`}, // never the copy in the current directory
		{`bin\run`, `C:\src\app\bin\run.bat`},
		{`C:\tools\git.exe`, `C:\tools\git.exe`},
	}
	for _, c := range cases {
		got, err := LookPath(c.file, env, `C:\src\app`, isFile)
		if err != nil || got != c.want {
			t.Errorf("LookPath(%s) = %s, %v; want %s", c.file, got, err, c.want)
		}
	}
	for _, missing := range []string{"nope", `C:\tools\nope.exe`, "cmd.com"} {
		if _, err := LookPath(missing, env, `C:\src\app`, isFile); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookPath(%s) err = %v, want ErrNotFound", missing, err)
		}
	}
}
