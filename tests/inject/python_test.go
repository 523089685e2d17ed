//go:build linux

package inject

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// evalPy is the script of the model API example: it sends the key from its
// environment in x-api-key with urllib, trusting whatever CA bundle the
// environment names (SSL_CERT_FILE), then fetches a second URL from a host
// no credential names, and writes what it held and got into the workspace.
const evalPy = `import json, os, sys, urllib.request
key = os.environ["ANTHROPIC_API_KEY"]
req = urllib.request.Request(sys.argv[1] + "/v1/messages", data=b'{"max_tokens": 1}',
                             headers={"x-api-key": key, "content-type": "application/json"})
with urllib.request.urlopen(req, timeout=20) as r:
    api = r.read().decode()
with urllib.request.urlopen(sys.argv[2] + "/plain", timeout=20) as r:
    plain = r.read().decode()
with open("python-saw.json", "w") as f:
    json.dump({"key": key, "api": api, "plain": plain}, f)
`

// TestPythonURLLib: Python's urllib inside the sandbox, with the model API
// example of docs/credentials.md (a key in the x-api-key header, handed to
// `python eval.py` without asking), reaches an API on the host that
// answers only the real key and echoes the key it got. urllib trusts
// cordon's CA through the variables cordon sets, and through the same
// bundle still reaches a host that is tunnelled, not intercepted. Judged
// from the host: the API received the real key, the tunnelled host no key
// at all; the script held the placeholder, and the API's echo reached it
// as the placeholder too; the key is in no file and nothing printed.
func TestPythonURLLib(t *testing.T) {
	need(t, "python3")
	inEveryMode(t, func(t *testing.T, uid int, extra []string) { testPython(t, newLayout(t, uid, extra)) })
}

func testPython(t *testing.T, l *layout) {
	secret := "sk-ant-api03-" + randomAlnum(40)
	l.env = []string{"ANTHROPIC_API_KEY=" + secret}
	ca := newCA(t, "python test CA")
	name, addr := machineName(t)
	api := startServerAt(t, net.JoinHostPort(addr, "0"), ca.leaf(t, name), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != secret {
			http.Error(w, `{"error":"invalid x-api-key"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"echo": r.Header.Get("X-Api-Key")})
	}))
	plain := startServerAt(t, net.JoinHostPort(addr, "0"), ca.leaf(t, name), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "tunnelled")
	}))
	apiHost := net.JoinHostPort(name, strconv.Itoa(api.port))
	plainHost := net.JoinHostPort(name, strconv.Itoa(plain.port))
	// docs/credentials.md, "Examples", the model API key, with the
	// test's host in place of api.anthropic.com (a name that resolves
	// to this machine, hence allow_private).
	l.write(l.policy, fmt.Sprintf(`version = 1
[network]
mode = "proxy"
allow_private = [%q, %q]
extra_ca = %q

[[credentials]]
name = "anthropic"
env = "ANTHROPIC_API_KEY"
from_env = "ANTHROPIC_API_KEY"
commands = [["python|python3", "eval.py", "**"]]
decision = "allow"
[credentials.inject]
hosts = [%q]
header = "x-api-key"
`, apiHost, plainHost, l.writeCA(ca), apiHost), 0o644)
	l.write(filepath.Join(l.ws, "eval.py"), evalPy, 0o644)

	l.mustRun("python3", "eval.py", "https://"+apiHost, "https://"+plainHost)

	got := api.received("/v1/messages")
	if len(got) != 1 || got[0].Get("X-Api-Key") != secret {
		t.Fatalf("the API did not receive the real key once: %v", api.all())
	}
	if p := plain.received("/plain"); len(p) != 1 || p[0].Get("X-Api-Key") != "" {
		t.Errorf("the tunnelled host: %v", plain.all())
	}
	var saw struct{ Key, API, Plain string }
	b, err := os.ReadFile(filepath.Join(l.ws, "python-saw.json"))
	if err != nil || json.Unmarshal(b, &saw) != nil {
		t.Fatalf("the script left no record: %q, %v", b, err)
	}
	var echo struct{ Echo string }
	json.Unmarshal([]byte(saw.API), &echo)
	switch {
	case saw.Key == secret || len(saw.Key) != len(secret) || !strings.HasPrefix(saw.Key, "sk-ant-"):
		t.Errorf("the script's ANTHROPIC_API_KEY was %q; want a placeholder shaped like the key", saw.Key)
	case echo.Echo != saw.Key:
		t.Errorf("the API's echo of the key reached the script as %q; want the placeholder %q", echo.Echo, saw.Key)
	case strings.TrimSpace(saw.Plain) != "tunnelled":
		t.Errorf("the tunnelled host answered %q", saw.Plain)
	}
	l.checkSecretNowhere(t, secret)

	var injected, tunnelled bool
	for _, ev := range l.requestEvents() {
		injected = injected || ev.Protocol == "https" && ev.Credential == "anthropic" && ev.Injected && ev.Path == "/v1/messages"
		tunnelled = tunnelled || ev.Protocol == "connect" && !ev.Intercepted && ev.Port == plain.port
	}
	if !injected || !tunnelled {
		t.Errorf("the audit trail lacks the injected request (%v) or the tunnel (%v):\n%s", injected, tunnelled, l.auditLog())
	}
}
