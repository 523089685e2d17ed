package credentials_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/internal/credentials"
)

func readDoc(t *testing.T) string {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "credentials.md"))
	if err != nil {
		t.Fatalf("reading docs/credentials.md: %v", err)
	}
	return string(doc)
}

// TestDocsExamples: every TOML example in docs/credentials.md decodes with
// unknown keys refused and validates.
func TestDocsExamples(t *testing.T) {
	blocks := regexp.MustCompile("(?s)```toml\n(.*?)```").FindAllStringSubmatch(readDoc(t), -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d TOML examples", len(blocks))
	}
	for _, b := range blocks {
		var f struct {
			Version     int                `toml:"version"`
			Credentials credentials.Scopes `toml:"credentials"`
		}
		dec := toml.NewDecoder(strings.NewReader(b[1]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			t.Errorf("example %q: %v", b[1], err)
			continue
		}
		if err := f.Credentials.Validate(); err != nil {
			t.Errorf("example %q: %v", b[1], err)
		}
	}
}

// TestDocsMessages: the messages quoted in docs/credentials.md are the ones
// the code gives.
func TestDocsMessages(t *testing.T) {
	doc := readDoc(t)
	var msgs []string
	collect := func(err error) {
		if err == nil {
			t.Fatal("no error")
		}
		msgs = append(msgs, strings.Split(err.Error(), "\n")...)
	}
	both := github()
	both.FromFile = "~/x"
	badPattern := npm()
	badPattern.Commands = [][]string{{"npm", "**", "x"}}
	reserved := credentials.Scope{Name: "deploy", Env: "LD_PRELOAD", FromEnv: "X", Commands: [][]string{{"deploy"}}}
	collect(credentials.Scopes{both, badPattern, reserved}.Validate())

	_, err := credentials.Scopes{github()}.Tighten(credentials.Scopes{{Name: "github", Commands: [][]string{{"gh", "**"}, {"curl", "**"}}}}, "/src/app/.cordon/policy.toml")
	collect(err)

	_, err = credentials.Resolve(github(), "/h", nil)
	collect(err)
	if os.PathSeparator == '/' {
		home := t.TempDir()
		p := filepath.Join(home, "github")
		if err := os.WriteFile(p, []byte("0123456789abcdef"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		s := github()
		s.FromEnv, s.FromFile = "", "~/github"
		_, err = credentials.Resolve(s, home, nil)
		collect(err)
		msgs[len(msgs)-1] = strings.ReplaceAll(msgs[len(msgs)-1], home, "/home/alice/.config/cordon/secrets")
	}
	for _, m := range msgs {
		if !strings.Contains(doc, m) {
			t.Errorf("docs/credentials.md does not quote the message:\n%s", m)
		}
	}
	if !strings.Contains(doc, `"category":"`+cmdpolicy.CategorySecretAccess+`"`) {
		t.Error("the audit example's category is not the one Event sets")
	}
}
