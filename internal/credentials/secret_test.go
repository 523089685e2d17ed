package credentials_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/credentials"
)

// canary returns a value no message could contain by chance.
func canary(t testing.TB) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "canary-" + hex.EncodeToString(b)
}

func fileScope(path string) credentials.Scope {
	return credentials.Scope{Name: "deploy", Env: "DEPLOY_KEY", FromFile: path, Commands: [][]string{{"deploy", "**"}}}
}

func envScope(from string) credentials.Scope {
	return credentials.Scope{Name: "github", Env: "GITHUB_TOKEN", FromEnv: from, Commands: [][]string{{"gh", "**"}}}
}

func TestResolveEnv(t *testing.T) {
	value := canary(t)
	for _, tc := range []struct {
		name    string
		environ []string
		want    string // "" means an error containing errText
		errText string
	}{
		{"set", []string{"HOME=/h", "GITHUB_TOKEN=" + value}, value, ""},
		{"trailing newline trimmed once", []string{"GITHUB_TOKEN=" + value + "\n\n"}, value + "\n", ""},
		{"CRLF trimmed", []string{"GITHUB_TOKEN=" + value + "\r\n"}, value, ""},
		{"first entry wins", []string{"GITHUB_TOKEN=" + value, "GITHUB_TOKEN=other-value-123"}, value, ""},
		{"value with =", []string{"GITHUB_TOKEN=" + value + "=="}, value + "==", ""},
		{"missing", []string{"HOME=/h", "GITHUB_TOKENX=" + value}, "", `credential "github": from_env GITHUB_TOKEN: the variable is not set in cordon's environment`},
		{"empty", []string{"GITHUB_TOKEN="}, "", "the secret is empty"},
		{"only a newline", []string{"GITHUB_TOKEN=\n"}, "", "the secret is empty"},
		{"too short", []string{"GITHUB_TOKEN=abc"}, "", "shorter than 8 bytes"},
		{"too long", []string{"GITHUB_TOKEN=" + strings.Repeat(value, 4000)}, "", "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec, err := credentials.Resolve(envScope("GITHUB_TOKEN"), "/h", tc.environ)
			if tc.want != "" {
				if err != nil {
					t.Fatal(err)
				}
				if sec.Value() != tc.want || sec.Name != "github" || sec.Env != "GITHUB_TOKEN" || sec.EnvEntry() != "GITHUB_TOKEN="+tc.want {
					t.Errorf("got %q (%s, %s)", sec.Value(), sec.Name, sec.Env)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("error %v, want one containing %q", err, tc.errText)
			}
			if strings.Contains(err.Error(), value[:15]) {
				t.Errorf("the error holds the value: %v", err)
			}
		})
	}
	// Windows compares variable names without case; other systems do not.
	sec, err := credentials.Resolve(envScope("GITHUB_TOKEN"), "/h", []string{"github_token=" + value})
	if found := err == nil && sec.Value() == value; found != (runtime.GOOS == "windows") {
		t.Errorf("on %s, from_env GITHUB_TOKEN found github_token: %v (%v)", runtime.GOOS, found, err)
	}
}

func TestResolveRefusesNonDefinitions(t *testing.T) {
	if _, err := credentials.Resolve(credentials.Scope{Name: "github", Commands: [][]string{{"gh"}}}, "/h", []string{"GITHUB_TOKEN=abcdefghijkl"}); err == nil {
		t.Error("a change entry resolved")
	}
}

// TestSecretNeverPrinted: fmt with any verb, JSON and text encodings show
// the placeholder, never the value.
func TestSecretNeverPrinted(t *testing.T) {
	value := canary(t)
	sec, err := credentials.Resolve(envScope("T"), "/", []string{"T=" + value})
	if err != nil {
		t.Fatal(err)
	}
	holder := struct {
		S  credentials.Secret
		P  *credentials.Secret
		SS []credentials.Secret
	}{sec, &sec, []credentials.Secret{sec}}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		outs = append(outs, fmt.Sprintf(verb, sec), fmt.Sprintf(verb, holder), fmt.Sprintf(verb, &sec))
	}
	js, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(js), fmt.Sprint(sec), fmt.Sprintln(sec))
	for _, o := range outs {
		if strings.Contains(o, value) || strings.Contains(o, hex.EncodeToString([]byte(value))[:20]) {
			t.Errorf("printed the value: %s", o)
		}
	}
	if got := fmt.Sprint(sec); got != "[redacted:github]" {
		t.Errorf("fmt.Sprint = %q", got)
	}
}
