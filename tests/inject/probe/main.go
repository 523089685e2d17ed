//go:build linux

// Command probe is run inside the sandbox by the injection tests. It shows
// what a sandboxed command holds and can do with a credential that cordon's
// proxy injects: it writes what it was given where the tests can look from
// the host side, and sends it where the tests listen. The tests judge from
// the host side, never from what probe says.
package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: probe dump FILE | send URL HEADER... | ws URL | read FILE"))
	}
	fmt.Fprintln(os.Stderr, "probe: started", os.Args[1])
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "dump":
		// Everything the command holds of its environment, into the
		// workspace and onto stdout.
		env, _ := os.ReadFile("/proc/self/environ")
		out := "GITHUB_TOKEN=" + os.Getenv("GITHUB_TOKEN") + "\n" + strings.ReplaceAll(string(env), "\x00", "\n")
		fmt.Print(out)
		err = os.WriteFile(args[0], []byte(out), 0o644)
	case "send":
		// GET URL through the proxy in $HTTPS_PROXY (Go never proxies
		// 127.0.0.1 on its own), trusting $SSL_CERT_FILE, with each
		// HEADER as NAME=VALUE where $TOKEN in VALUE is the variable.
		err = send(args[0], args[1:])
	case "ws":
		// A WebSocket to URL through the proxy (ws.go).
		err = websocket(args[0])
	case "read":
		var b []byte
		if b, err = os.ReadFile(args[0]); err == nil {
			fmt.Printf("read %d bytes\n", len(b))
		}
	default:
		err = fmt.Errorf("unknown action %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func send(target string, headers []string) error {
	p, err := url.Parse(os.Getenv("HTTPS_PROXY"))
	if err != nil || p.Host == "" {
		return fmt.Errorf("no usable HTTPS_PROXY: %q", os.Getenv("HTTPS_PROXY"))
	}
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(p)}}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, "=")
		req.Header.Set(name, strings.ReplaceAll(value, "$TOKEN", os.Getenv("GITHUB_TOKEN")))
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("status %d\n%s", resp.StatusCode, body)
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "probe:", err)
	os.Exit(1)
}
