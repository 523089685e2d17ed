// Package mcpclient is a minimal stdio client of `cordon mcp` for tests and
// benchmarks: it starts the server, initializes the session and calls
// run_command, reading the answers by id (notifications are skipped). It
// speaks the wire format directly so that what it checks is what a real
// client sends and gets.
package mcpclient

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"time"
)

// Client is one running `cordon mcp` and its session.
type Client struct {
	Cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	nextID int
}

// Timeout bounds each request: the server is killed when it does not
// answer in time, so a hung server fails a test instead of stalling it.
const Timeout = 2 * time.Minute

// Start starts cmd (a `cordon mcp` command, its directory, environment and
// attributes set; its stdin and stdout are taken, its stderr discarded
// when unset) and initializes the session as client name.
func Start(cmd *exec.Cmd, name string) (*Client, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if cmd.Stderr == nil {
		cmd.Stderr = io.Discard
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &Client{Cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	if _, err := c.Request("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": name, "version": "1"}}); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Client) send(msg map[string]any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_, err = c.in.Write(append(b, '\n'))
	return err
}

// Request sends a request and returns its result; a JSON-RPC error is an
// error.
func (c *Client) Request(method string, params any) (json.RawMessage, error) {
	c.nextID++
	id := c.nextID
	if err := c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		return nil, fmt.Errorf("write to cordon mcp: %w", err)
	}
	deadline := time.AfterFunc(Timeout, func() { c.Cmd.Process.Kill() })
	defer deadline.Stop()
	for {
		line, err := c.out.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("cordon mcp ended before answering %s: %w", method, err)
		}
		var m struct {
			ID     *int            `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(line, &m) != nil || m.ID == nil || *m.ID != id {
			continue
		}
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	}
}

// Run is what run_command answered.
type Run struct {
	Ran      bool   `json:"ran"`
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

// RunCommand calls run_command with args and returns its structured
// answer, and the raw answer for messages.
func (c *Client) RunCommand(args map[string]any) (Run, json.RawMessage, error) {
	raw, err := c.Request("tools/call", map[string]any{"name": "run_command", "arguments": args})
	if err != nil {
		return Run{}, raw, err
	}
	var res struct {
		Structured Run `json:"structuredContent"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return Run{}, raw, fmt.Errorf("run_command answer: %w: %s", err, raw)
	}
	return res.Structured, raw, nil
}

// Close ends the session (closes the server's input) and waits for the
// server to end, killing it after 30 s; it reports whether it ended by
// itself.
func (c *Client) Close() bool {
	c.in.Close()
	done := make(chan struct{})
	go func() { c.Cmd.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(30 * time.Second):
		c.Cmd.Process.Kill()
		<-done
		return false
	}
}
