//go:build linux

// Command probe tries, from wherever it runs, to take part in approving:
// connect to the approval inbox, read its token, and write cordon's grant
// store and the user's policy file. The approval tests run it inside
// cordon's sandbox and, as a baseline, outside it, and judge the outcome
// from the host (the inbox's counters, the files), never from what it
// prints. It prints what it tried, so that a run that tried nothing cannot
// pass.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: probe PORT STATE-DIR POLICY-FILE")
		os.Exit(2)
	}
	port, stateDir, policyFile := os.Args[1], os.Args[2], os.Args[3]
	fmt.Fprintln(os.Stderr, "probe: started")
	report := map[string]string{}
	try := func(name string, f func() error) {
		if err := f(); err != nil {
			report[name] = "failed: " + err.Error()
		} else {
			report[name] = "succeeded"
		}
	}
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
		try("connect "+host, func() error {
			c, err := net.DialTimeout("tcp", host+":"+port, 2*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			// Something the inbox can see arrive.
			_, err = fmt.Fprintf(c, "POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nAuthorization: Bearer guess\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"command\":\"x\"}", port)
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			c.Read(make([]byte, 512))
			return err
		})
	}
	try("read the inbox token", func() error {
		_, err := os.ReadFile(filepath.Join(stateDir, "approve", "inbox.json"))
		return err
	})
	try("list the state directory", func() error {
		_, err := os.ReadDir(stateDir)
		return err
	})
	try("write a session grant", func() error {
		dir := filepath.Join(stateDir, "grants")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "session-probe.json"), []byte(`{"version":1}`), 0o600)
	})
	try("replace the inbox address", func() error {
		return os.WriteFile(filepath.Join(stateDir, "approve", "inbox.json"), []byte(`{"url":"http://127.0.0.1:1","token":"x"}`), 0o600)
	})
	try("append to the user's policy", func() error {
		f, err := os.OpenFile(policyFile, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteString("\n[[commands.rule]]\nmatch = [\"**\"]\ndecision = \"allow\"\n")
		return err
	})
	b, _ := json.Marshal(report)
	fmt.Println(string(b))
	if strings.Contains(string(b), "succeeded") {
		os.Exit(1)
	}
}
