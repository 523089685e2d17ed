//go:build linux

package netproxy

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestToolsTrustTheBundle runs the real clients sandboxed commands use, on
// the host, with exactly the environment a sandbox gets (ClientEnv plus
// TrustEnv): each reaches an intercepted host through the proxy, trusting
// cordon's CA through the bundle alone, and the server receives the
// secret in place of the placeholder the tool sent (or was never given).
// The same bundle lets them reach a tunnelled host whose certificate the
// system roots or the extra CA vouch for, and that host gets no secret.
//
// docs/network.md ("Interception", the tools table) reports this test.
func TestToolsTrustTheBundle(t *testing.T) {
	f := newInterceptFixture(t)
	extra := filepath.Join(t.TempDir(), "extra-ca.pem")
	os.WriteFile(extra, f.serverCA.certPEM, 0o644)
	env, bundlePath, err := SandboxTrust(f.cordon, Config{ExtraCA: extra}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	baseEnv := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TOKEN=" + testPlaceholder,
		"GIT_TERMINAL_PROMPT=0", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1"}
	for k, v := range ClientEnv("http://" + f.proxy.addr) {
		baseEnv = append(baseEnv, k+"="+v)
	}
	for k, v := range env {
		baseEnv = append(baseEnv, k+"="+v)
	}
	os.WriteFile(filepath.Join(home, ".npmrc"), []byte("cafile=/etc/ssl/certs/ca-certificates.crt\n"), 0o644)
	api, other := "https://"+f.apiHost, "https://"+f.otherHost
	python := pythonWith(t)

	type tool struct {
		name string
		need string // executable that must exist
		// reads is the one variable of TrustVars the tool needs: it is
		// run a second time with that variable alone.
		reads string
		argv  []string
		// tunnel is the same tool against the tunnelled host, if it is
		// tried there.
		tunnel []string
		// anyStatus: the tool fails on the server's answer (git on a
		// repository that is not there), which is fine: what matters is
		// what reached the server.
		anyStatus bool
	}
	tools := []tool{
		{name: "curl", need: "curl", reads: "CURL_CA_BUNDLE",
			argv:   []string{"curl", "-sS", "--fail", "--max-time", "20", "-H", "Authorization: Bearer " + testPlaceholder, api + "/curl"},
			tunnel: []string{"curl", "-sS", "--fail", "--max-time", "20", "-H", "Authorization: Bearer " + testPlaceholder, other + "/curl"}},
		{name: "git", need: "git", reads: "GIT_SSL_CAINFO", anyStatus: true,
			argv: []string{"git", "ls-remote", api + "/git/repo.git"}},
		{name: "python-urllib", need: python, reads: "SSL_CERT_FILE",
			argv: []string{python, "-c", `import os, urllib.request
r = urllib.request.urlopen(urllib.request.Request(os.environ["URL"], headers={"Authorization": "token " + os.environ["TOKEN"]}), timeout=20)
print(r.status, r.read().decode())`, api + "/python-urllib"},
			tunnel: []string{python, "-c", `import os, urllib.request
print(urllib.request.urlopen(os.environ["URL"], timeout=20).status)`, other + "/python-urllib"}},
		{name: "python-requests", need: python, reads: "REQUESTS_CA_BUNDLE",
			argv: []string{python, "-c", `import os, requests
r = requests.get(os.environ["URL"], headers={"Authorization": "Bearer " + os.environ["TOKEN"]}, timeout=20)
r.raise_for_status(); print(r.status_code, r.text)`, api + "/python-requests"},
			tunnel: []string{python, "-c", `import os, requests
requests.get(os.environ["URL"], timeout=20).raise_for_status()`, other + "/python-requests"}},
		{name: "pip", need: python, reads: "PIP_CERT", anyStatus: true,
			argv: []string{python, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-d", filepath.Join(home, "dl"),
				"--index-url", api + "/pip/simple/", "cordon-probe-package"}},
		{name: "node-https", need: "node", reads: "NODE_EXTRA_CA_CERTS",
			// Node.js 20 reads no proxy variables (22.21+ does with
			// NODE_USE_ENV_PROXY), so the script opens the tunnel itself;
			// the CA comes from NODE_EXTRA_CA_CERTS alone.
			argv:   []string{"node", "-e", nodeThroughProxy, api + "/node-https"},
			tunnel: []string{"node", "-e", nodeThroughProxy, other + "/node-https"}},
		{name: "npm", need: "npm", reads: "npm_config_cafile", anyStatus: true,
			// npm sends the placeholder from its nerf-darted _authToken; the
			// home's .npmrc names a cafile of its own (as the test machine's
			// global npmrc does), which replaces Node's list and with it
			// NODE_EXTRA_CA_CERTS.
			argv: []string{"npm", "view", "cordon-probe-package", "--registry", api + "/npm/",
				"--//" + f.apiHost + "/npm/:_authToken=" + testPlaceholder, "--fetch-retries=0", "--update-notifier=false"}},
		{name: "go-net-http", need: os.Args[0], reads: "SSL_CERT_FILE",
			argv:   []string{os.Args[0], "-test.run=^TestGoClientHelper$", api + "/go-net-http"},
			tunnel: []string{os.Args[0], "-test.run=^TestGoClientHelper$", other + "/go-net-http"}},
	}
	ran := 0
	for _, tl := range tools {
		t.Run(tl.name, func(t *testing.T) {
			if tl.need == "" {
				t.Skip("not installed")
			}
			if _, err := exec.LookPath(tl.need); err != nil {
				t.Skipf("%s is not installed; this test runs it for real", tl.need)
			}
			ran++
			run := func(argv []string, only string) (string, error) {
				url := argv[len(argv)-1]
				cmd := exec.Command(argv[0], argv[1:]...)
				if tl.name == "pip" || tl.name == "git" || tl.name == "npm" {
					url = ""
				}
				for _, kv := range baseEnv {
					k, _, _ := strings.Cut(kv, "=")
					if _, trust := env[k]; !trust || only == "" || k == only {
						cmd.Env = append(cmd.Env, kv)
					}
				}
				cmd.Env = append(cmd.Env, "URL="+url, "GO_CLIENT_HELPER=1")
				cmd.Dir = home
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			before := len(f.api.requests())
			out, err := run(tl.argv, "")
			if err != nil && !tl.anyStatus {
				t.Fatalf("%v: %v\n%s", tl.argv, err, out)
			}
			// Once more with only the variable the tool is documented to
			// read.
			if o, err := run(tl.argv, tl.reads); err != nil && !tl.anyStatus {
				t.Errorf("%s with %s alone: %v\n%s", tl.name, tl.reads, err, o)
			} else {
				out += o
			}
			for _, bad := range []string{"certificate verify failed", "SSL certificate problem", "CERTIFICATE_VERIFY_FAILED", "unable to get local issuer", "self-signed", "x509:"} {
				if strings.Contains(out, bad) {
					t.Fatalf("%s did not trust the bundle: %s", tl.name, out)
				}
			}
			if strings.Contains(out, testSecret) {
				t.Errorf("ESCAPED: %s printed the secret: %s", tl.name, out)
			}
			reqs := f.api.requests()[before:]
			if len(reqs) == 0 {
				t.Fatalf("the server got no request from %s: %s", tl.name, out)
			}
			for _, r := range reqs {
				auth := r.Header.Get("Authorization")
				if !strings.HasSuffix(auth, " "+testSecret) {
					t.Errorf("%s %s: Authorization %q, want the secret", tl.name, r.Path, auth)
				}
			}
			if tl.tunnel == nil {
				return
			}
			ob := len(f.other.requests())
			if out, err := run(tl.tunnel, ""); err != nil {
				t.Fatalf("%s through a plain tunnel: %v\n%s", tl.name, err, out)
			}
			for _, r := range f.other.requests()[ob:] {
				if strings.Contains(fmt.Sprint(r.Header), testSecret) {
					t.Errorf("ESCAPED: the tunnelled host got the secret from %s", tl.name)
				}
			}
		})
	}
	if ran == 0 {
		t.Skip("none of the tools is installed")
	}
	if b, _ := os.ReadFile(bundlePath); strings.Contains(string(b), "PRIVATE KEY") {
		t.Error("the bundle holds a private key")
	}
	noSecretIn(t, f.proxy.eventsAfterClose())
}

// nodeThroughProxy opens a CONNECT tunnel through $HTTPS_PROXY (no
// credentials in these tests) and sends one HTTPS request with Node's own
// TLS stack and CA list.
const nodeThroughProxy = `
const http = require("http"), https = require("https");
const target = new URL(process.env.URL), proxy = new URL(process.env.HTTPS_PROXY);
const authority = target.hostname + ":" + target.port;
http.request({host: proxy.hostname, port: proxy.port, method: "CONNECT", path: authority, headers: {Host: authority}})
  .on("connect", (res, socket) => {
    if (res.statusCode !== 200) { console.error("CONNECT", res.statusCode); process.exit(1); }
    https.get({host: target.hostname, port: target.port, path: target.pathname, socket, agent: false,
               servername: target.hostname, headers: {Authorization: "Bearer " + process.env.TOKEN}}, (r) => {
      let body = ""; r.on("data", (d) => body += d);
      r.on("end", () => { console.log(r.statusCode, body); process.exit(r.statusCode === 200 ? 0 : 1); });
    }).on("error", (e) => { console.error(e.message); process.exit(1); });
  }).on("error", (e) => { console.error(e.message); process.exit(1); }).end();
`

// TestGoClientHelper is the Go net/http client of TestToolsTrustTheBundle,
// run as a process of its own so that the environment (HTTPS_PROXY,
// SSL_CERT_FILE) is read as any Go program reads it.
func TestGoClientHelper(t *testing.T) {
	if os.Getenv("GO_CLIENT_HELPER") != "1" {
		t.Skip("run by TestToolsTrustTheBundle")
	}
	req, _ := http.NewRequest(http.MethodGet, os.Getenv("URL"), nil)
	req.Header.Set("Authorization", "Bearer "+os.Getenv("TOKEN"))
	c := &http.Client{Timeout: 20 * time.Second} // DefaultTransport: ProxyFromEnvironment, system roots
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
}

// pythonWith returns the python3 executable itself (not a pyenv shim,
// which needs the real HOME), if it has requests.
func pythonWith(t *testing.T) string {
	out, err := exec.Command("python3", "-c", "import sys, requests; print(sys.executable)").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
