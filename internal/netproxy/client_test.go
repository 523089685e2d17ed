package netproxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for `cordon __connect HOST PORT`
// when ssh runs it as its ProxyCommand.
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "__connect" {
		port, err := strconv.Atoi(os.Args[3])
		if err == nil {
			err = ConnectStdio(context.Background(), os.Getenv, os.Args[2], port, os.Stdin, os.Stdout)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "connector:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestDialVia(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	p := startProxy(t, Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}}, Options{})
	for _, scheme := range []string{"http", "socks5", "socks5h"} {
		u := &url.URL{Scheme: scheme, Host: p.addr}
		c, err := DialVia(context.Background(), u, "allowed.test", up.port)
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		if !echoes(t, c, c) {
			t.Errorf("%s: no echo through the tunnel", scheme)
		}
		c.Close()
		_, err = DialVia(context.Background(), u, "denied.test", up.port)
		if err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s to a denied host: %v; want a refusal", scheme, err)
		}
	}
	if _, err := DialVia(context.Background(), &url.URL{Scheme: "ftp", Host: p.addr}, "allowed.test", up.port); err == nil {
		t.Error("an ftp:// proxy URL was accepted")
	}
}

func TestDialViaWithSecret(t *testing.T) {
	up := startUpstream(t)
	s, err := New(Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + strconv.Itoa(up.port)}}, Options{Resolver: newResolver()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ll, err := ListenLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ll)
	withSecret, _ := url.Parse(ll.URL())
	for _, scheme := range []string{"http", "socks5h"} {
		u := *withSecret
		u.Scheme = scheme
		c, err := DialVia(context.Background(), &u, "allowed.test", up.port)
		if err != nil {
			t.Fatalf("%s with the secret: %v", scheme, err)
		}
		c.Close()
		u.User = nil
		if c, err := DialVia(context.Background(), &u, "allowed.test", up.port); err == nil {
			c.Close()
			t.Errorf("%s without the secret succeeded", scheme)
		}
	}
}

func TestConnectStdio(t *testing.T) {
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	p := startProxy(t, Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}}, Options{})
	for _, env := range []map[string]string{
		{"ALL_PROXY": "socks5h://" + p.addr},
		{"all_proxy": "socks5h://" + p.addr, "HTTPS_PROXY": "http://127.0.0.1:1"},
		{"HTTPS_PROXY": "http://" + p.addr},
		{"https_proxy": "http://" + p.addr},
	} {
		var out bytes.Buffer
		err := ConnectStdio(context.Background(), func(k string) string { return env[k] }, "allowed.test", up.port, strings.NewReader("hello ssh"), &out)
		if err != nil || out.String() != "hello ssh" {
			t.Errorf("env %v: got %q, %v; want the echo", env, out.String(), err)
		}
	}
	err := ConnectStdio(context.Background(), func(string) string { return "" }, "allowed.test", up.port, strings.NewReader(""), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ALL_PROXY") {
		t.Errorf("no proxy in the environment: %v; want an error naming ALL_PROXY", err)
	}
	err = ConnectStdio(context.Background(), func(k string) string { return map[string]string{"HTTPS_PROXY": "::bad"}[k] }, "allowed.test", up.port, strings.NewReader(""), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HTTPS_PROXY") {
		t.Errorf("a malformed proxy URL: %v; want an error naming HTTPS_PROXY", err)
	}
}

// sshBanner is a destination that speaks the first line of SSH: it sends a
// server banner and records the client's.
func sshBanner(t *testing.T) (port int, got <-chan string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan string, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "SSH-2.0-cordon_test\r\n")
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			ch <- line
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, ch
}

// TestGitOverSSHThroughTheProxy runs real git and ssh with the GIT_SSH_COMMAND
// that ClientEnv sets, with this test binary as the connector, and checks
// that ssh's banner reached the destination through the proxy under the raw
// TCP rule.
func TestGitOverSSHThroughTheProxy(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the ProxyCommand quoting is for POSIX shells")
	}
	for _, tool := range []string{"git", "ssh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; this test runs git over ssh for real", tool)
		}
	}
	port, banners := sshBanner(t)
	p := startProxy(t, Config{Mode: ModeProxy, TCP: []string{"git.test:" + strconv.Itoa(port)}}, Options{}, func(p *testProxy) {
		p.resolver.addrs["git.test"] = []netip.Addr{publicAddr}
		p.dial = redirectPublic(p.Server, port)
	})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, proxyVar := range []string{"ALL_PROXY=socks5h://" + p.addr, "HTTPS_PROXY=http://" + p.addr} {
		home := t.TempDir()
		cmd := exec.Command("git", "ls-remote", "ssh://git@git.test:"+strconv.Itoa(port)+"/repo.git")
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + home, proxyVar,
			"GIT_SSH_COMMAND=" + SSHCommand(exe) + " -o BatchMode=yes -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10",
		}
		out, _ := cmd.CombinedOutput() // fails: the destination is no ssh server
		select {
		case b := <-banners:
			if !strings.HasPrefix(b, "SSH-2.0-OpenSSH") {
				t.Errorf("%s: destination got %q; want ssh's banner", proxyVar, b)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: ssh never reached the destination; git said:\n%s", proxyVar, out)
		}
	}
	for _, ev := range p.eventsAfterClose() {
		if ev.Host != "git.test" || !ev.Allowed || ev.Rule != `network.tcp "git.test:`+strconv.Itoa(port)+`"` {
			t.Errorf("event %+v; want git.test allowed by the tcp rule", ev)
		}
	}
}

// TestCurlHonoursClientEnv runs curl with exactly the environment ClientEnv
// produces and checks which of its variables curl uses: http_proxy for
// http://, https_proxy through CONNECT, ALL_PROXY through SOCKS5 when nothing
// more specific is set.
func TestCurlHonoursClientEnv(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed; this test runs it for real")
	}
	up := startUpstream(t)
	port := strconv.Itoa(up.port)
	p := startProxy(t, Config{Mode: ModeProxy, AllowPrivate: []string{"allowed.test:" + port}}, Options{})
	env := ClientEnv("http://" + p.addr)
	run := func(keep func(k string) bool, args ...string) (string, error) {
		cmd := exec.Command("curl", append([]string{"-sS", "--max-time", "10"}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		for k, v := range env {
			if keep(k) {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	all := func(string) bool { return true }
	if out, err := run(all, "http://allowed.test:"+port+"/curl"); err != nil || out != "hello from upstream" {
		t.Errorf("curl http:// through http_proxy: %q %v", out, err)
	}
	if out, err := run(all, "--proxytunnel", "http://allowed.test:"+port+"/tunnel"); err != nil || out != "hello from upstream" {
		t.Errorf("curl through CONNECT: %q %v", out, err)
	}
	socksOnly := func(k string) bool { return strings.EqualFold(k, "ALL_PROXY") || strings.EqualFold(k, "NO_PROXY") }
	if out, err := run(socksOnly, "http://allowed.test:"+port+"/socks"); err != nil || out != "hello from upstream" {
		t.Errorf("curl through ALL_PROXY (SOCKS5): %q %v", out, err)
	}
	out, _ := run(all, "-i", "http://denied.test:"+port+"/")
	if !strings.Contains(out, "403") || !strings.Contains(out, "X-Cordon-Denied: host=denied.test:"+port) {
		t.Errorf("curl to a denied host got:\n%s", out)
	}
	_, got := up.stats()
	for _, path := range []string{"/curl", "/tunnel", "/socks"} {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, "GET "+path+" ")
		}
		if !found {
			t.Errorf("destination never got GET %s (got %q)", path, got)
		}
	}
	var protos []string
	for _, ev := range p.eventsAfterClose() {
		protos = append(protos, ev.Protocol)
	}
	for _, want := range []string{ProtoHTTP, ProtoConnect, ProtoSOCKS5} {
		if !strings.Contains(strings.Join(protos, ","), want) {
			t.Errorf("no %s event among %q", want, protos)
		}
	}
}

func TestSSHCommandQuoting(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX shell")
	}
	// A fake ssh prints the ProxyCommand it was given; a fake connector at
	// an awkward path prints its arguments. Running both through the shell
	// the way git and ssh do must hand the connector exactly "__connect"
	// HOST PORT.
	dir := t.TempDir()
	connector := filepath.Join(dir, "dir with 'quotes' and %percent", "cordon")
	os.MkdirAll(filepath.Dir(connector), 0o755)
	os.WriteFile(connector, []byte("#!/bin/sh\nprintf '%s|' \"$@\"\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "ssh"), []byte("#!/bin/sh\nprintf '%s\\n' \"$2\"\n"), 0o755)

	cmd := SSHCommand(connector)
	fakeSSH := exec.Command("sh", "-c", cmd)
	fakeSSH.Env = []string{"PATH=" + dir + ":" + os.Getenv("PATH")}
	opt, err := fakeSSH.Output()
	if err != nil {
		t.Fatal(err)
	}
	proxyCommand, ok := strings.CutPrefix(strings.TrimSpace(string(opt)), "ProxyCommand=")
	if !ok {
		t.Fatalf("ssh got %q; want a ProxyCommand option", opt)
	}
	// ssh expands %h, %p and %% before handing the command to the shell.
	expanded := strings.NewReplacer("%h", "git.test", "%p", "22", "%%", "%").Replace(proxyCommand)
	got, err := exec.Command("sh", "-c", "exec "+expanded).Output()
	if err != nil {
		t.Fatalf("running the ProxyCommand %q: %v", expanded, err)
	}
	if string(got) != "__connect|git.test|22|" {
		t.Errorf("connector got %q; want __connect|git.test|22|", got)
	}
}

func TestClientEnv(t *testing.T) {
	env := ClientEnv("http://cordon:s3cret@127.0.0.1:4242")
	want := map[string]string{
		"HTTP_PROXY": "http://cordon:s3cret@127.0.0.1:4242", "http_proxy": "http://cordon:s3cret@127.0.0.1:4242",
		"HTTPS_PROXY": "http://cordon:s3cret@127.0.0.1:4242", "https_proxy": "http://cordon:s3cret@127.0.0.1:4242",
		"ALL_PROXY": "socks5h://cordon:s3cret@127.0.0.1:4242", "all_proxy": "socks5h://cordon:s3cret@127.0.0.1:4242",
		"NO_PROXY": "localhost,127.0.0.1,::1", "no_proxy": "localhost,127.0.0.1,::1",
		"npm_config_proxy": "http://cordon:s3cret@127.0.0.1:4242", "npm_config_https_proxy": "http://cordon:s3cret@127.0.0.1:4242",
		"YARN_HTTPS_PROXY": "http://cordon:s3cret@127.0.0.1:4242", "PIP_PROXY": "http://cordon:s3cret@127.0.0.1:4242",
		"NODE_USE_ENV_PROXY": "1",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q; want %q", k, env[k], v)
		}
	}
	if _, ok := env["YARN_NO_PROXY"]; ok {
		t.Error("YARN_NO_PROXY is set; yarn 2+ rejects it as an unknown setting")
	}
	if _, ok := env["JAVA_TOOL_OPTIONS"]; ok {
		t.Error("JAVA_TOOL_OPTIONS is set for a proxy that needs a secret the JVM cannot send on CONNECT")
	}
	if !strings.Contains(env["GIT_SSH_COMMAND"], "__connect %h %p") {
		t.Errorf("GIT_SSH_COMMAND = %q", env["GIT_SSH_COMMAND"])
	}
	env = ClientEnv("http://127.0.0.1:4242")
	if got := env["JAVA_TOOL_OPTIONS"]; !strings.Contains(got, "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=4242") {
		t.Errorf("JAVA_TOOL_OPTIONS = %q", got)
	}
	if env = ClientEnv("not a url"); env["HTTPS_PROXY"] != "http://127.0.0.1:9" {
		t.Errorf("a malformed proxy URL must point tools at nothing, got HTTPS_PROXY=%q", env["HTTPS_PROXY"])
	}
}
