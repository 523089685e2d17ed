package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// MaxLineBytes is the longest line, not counting its newline, that
// ServeStdio reads as one message: 4 MiB. A tool call's arguments are a
// command line and the text for its standard input; 4 MiB is twice what
// Linux lets a command line and its environment take (ARG_MAX), and it
// bounds what one line can make the server hold in memory. A longer line
// is read to its end, answered with an error, and dropped.
const MaxLineBytes = 4 << 20

// JSON-RPC 2.0's error codes for what a transport can refuse.
const (
	codeParseError     = jsonrpc.CodeParseError     // -32700: not JSON
	codeInvalidRequest = jsonrpc.CodeInvalidRequest // -32600: JSON, but not a message
)

// ServeStdio serves one client, as Run does, over newline-delimited
// JSON-RPC: one message per line read from in, one per line written to out
// (the process's standard input and output).
//
// Unlike the SDK's stdio transport, which ends the session at the first
// line it cannot decode, a line that is not a message is answered with a
// JSON-RPC error and the next line is read:
//
//   - a line that is not UTF-8, or not exactly one JSON value: -32700
//     (parse error), id null, data {"offset": N}: the offset of the first
//     byte that cannot be there, or the line's length when it ends early;
//   - a batch (a JSON array): -32600 (invalid request), id null. Batches
//     exist only in MCP's 2025-03-26 revision; 2025-06-18 removed them,
//     and the SDK (which speaks up to 2026-07-28) refuses them for every
//     later revision by closing the session;
//   - JSON that is not a JSON-RPC 2.0 request, notification or response:
//     -32600, with the request's id when it is a request whose id could be
//     read, so that the client's call ends instead of waiting;
//   - a line longer than MaxLineBytes: -32600, data {"limit": MaxLineBytes,
//     "length": N}, with the request's id when the line's first 64 KiB
//     show it, for the same reason.
//
// Empty lines, and lines of JSON whitespace, are skipped without an answer.
// A trailing carriage return (CRLF line ends) is whitespace. Every refused
// line is logged with its length and the reason, never in full.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	return s.Run(ctx, &stdioTransport{in: in, out: out, max: MaxLineBytes, logf: s.logf})
}

// stdioTransport is the mcp.Transport behind ServeStdio.
type stdioTransport struct {
	in   io.Reader
	out  io.Writer
	max  int
	logf func(format string, args ...any)
}

func (t *stdioTransport) Connect(context.Context) (mcp.Connection, error) {
	c := &stdioConn{
		in:       t.in,
		out:      t.out,
		logf:     t.logf,
		incoming: make(chan readResult),
		closed:   make(chan struct{}),
	}
	go c.readLoop(t.max)
	return c, nil
}

type readResult struct {
	msg jsonrpc.Message
	err error
}

// stdioConn is one session's connection. Only messages that decode go to
// the SDK: every other line is answered here, so no line a client sends
// can end the session.
type stdioConn struct {
	in   io.Reader
	out  io.Writer
	logf func(format string, args ...any)

	// writeMu keeps each line whole: the SDK writes from several
	// goroutines, and the read loop writes its error answers.
	writeMu sync.Mutex

	incoming  chan readResult
	closed    chan struct{}
	closeOnce sync.Once
}

// readLoop reads lines, hands on the messages and answers the rest. It
// runs in its own goroutine so that Close unblocks Read even when the
// input cannot be interrupted; it ends at the end of the input, at an
// error, or when the connection closes.
func (c *stdioConn) readLoop(max int) {
	r := bufio.NewReaderSize(c.in, 64<<10)
	for {
		line, n, err := readLine(r, max)
		if n > 0 {
			msg, reply, why := judgeLine(line, n, max)
			switch {
			case msg != nil:
				select {
				case c.incoming <- readResult{msg: msg}:
				case <-c.closed:
					return
				}
			case reply != nil:
				c.logf("refused a line from the client (%d bytes): %s", n, why)
				if werr := c.writeLine(reply); werr != nil && err == nil {
					err = fmt.Errorf("answering a line that is not a message: %w", werr)
				}
			}
		}
		if err != nil {
			select {
			case c.incoming <- readResult{err: err}:
			case <-c.closed:
			}
			return
		}
	}
}

// readLine reads one line and returns it without its newline, with n its
// length. A line longer than max is read to its end and returned as its
// first sniffBytes bytes (enough to find the id of a request), with n its
// full length. err is io.EOF at the end of the input; a last line without
// a newline is still returned with it.
func readLine(r *bufio.Reader, max int) (line []byte, n int, err error) {
	over := false
	for {
		chunk, err := r.ReadSlice('\n')
		if err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		n += len(chunk)
		switch {
		case n <= max:
			line = append(line, chunk...)
		case !over:
			// Too long: keep the start, to find the id; let the rest go.
			over = true
			line = append(line, chunk...)
			if len(line) > sniffBytes {
				line = append([]byte(nil), line[:sniffBytes]...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, n, err
	}
}

// sniffBytes is how much of an over-long line is kept to find its id.
const sniffBytes = 64 << 10

// judgeLine decides what one line of n bytes is: a message for the SDK
// (msg), an error answer for the client (reply, with why for the log), or
// nothing at all (blank).
func judgeLine(line []byte, n, max int) (msg jsonrpc.Message, reply []byte, why string) {
	if n > max {
		return nil, errorReply(sniffRequestID(line), codeInvalidRequest,
				fmt.Sprintf("Invalid Request: the line is longer than the %d bytes a message may take", max),
				map[string]int{"limit": max, "length": n}),
			fmt.Sprintf("longer than %d bytes", max)
	}
	if !utf8.Valid(line) {
		off := 0
		for off < len(line) {
			r, size := utf8.DecodeRune(line[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		return nil, errorReply(nil, codeParseError, "Parse error: the line is not valid UTF-8", map[string]int{"offset": off}),
			fmt.Sprintf("not UTF-8 (byte %d)", off)
	}
	trimmed := bytes.TrimLeft(line, " \t\r")
	if len(bytes.TrimRight(trimmed, " \t\r")) == 0 {
		return nil, nil, ""
	}
	var raw json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		// The offset of the byte that cannot be there (SyntaxError's
		// Offset counts it), or the line's length when it ends early.
		off := len(line)
		var syn *json.SyntaxError
		if errors.As(err, &syn) && syn.Offset > 0 && !strings.HasPrefix(syn.Error(), "unexpected end") {
			off = int(syn.Offset) - 1
		}
		return nil, errorReply(nil, codeParseError, "Parse error: the line is not one JSON value", map[string]int{"offset": off}),
			fmt.Sprintf("not JSON (byte %d): %v", off, err)
	}
	switch trimmed[0] {
	case '[':
		return nil, errorReply(nil, codeInvalidRequest,
				"Invalid Request: JSON-RPC batches are not supported (MCP removed them in revision 2025-06-18); send each message on a line of its own", nil),
			"a batch"
	case '{':
	default:
		return nil, errorReply(nil, codeInvalidRequest, "Invalid Request: a JSON-RPC message is a JSON object", nil), "not a JSON object"
	}
	id, problem := checkMessage(raw)
	if problem != "" {
		return nil, errorReply(id, codeInvalidRequest, "Invalid Request: "+problem, nil), problem
	}
	// What passed the checks above decodes; if the SDK still cannot read
	// it (its decoder has limits of its own, such as nesting depth), it is
	// answered here rather than ending the session.
	msg, err := jsonrpc.DecodeMessage(raw)
	if err != nil {
		return nil, errorReply(id, codeInvalidRequest, "Invalid Request: the server cannot decode this message", nil),
			fmt.Sprintf("the SDK cannot decode it: %v", err)
	}
	return msg, nil, ""
}

// checkMessage checks that obj, a JSON object, is a JSON-RPC 2.0 request,
// notification or response. It returns what is wrong, and the id to
// answer with: the request's id when it has a method and an id that is a
// string or a number, nil (null) otherwise, so that no answer is ever
// taken for the answer to one of the client's own calls.
func checkMessage(obj []byte) (id json.RawMessage, problem string) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, "a JSON-RPC message is a JSON object"
	}
	rawID, hasID := m["id"]
	rawMethod, hasMethod := m["method"]
	idOK := !hasID || isStringOrNumber(rawID) || string(rawID) == "null"
	if hasMethod && hasID && isStringOrNumber(rawID) {
		id = rawID
	}
	var version string
	if err := json.Unmarshal(m["jsonrpc"], &version); err != nil || version != "2.0" {
		return id, `"jsonrpc" must be "2.0"`
	}
	if !idOK {
		return nil, `"id" must be a string or a number`
	}
	if hasMethod {
		var method string
		if rawMethod[0] != '"' || json.Unmarshal(rawMethod, &method) != nil {
			return id, `"method" must be a string`
		}
		return id, ""
	}
	_, hasResult := m["result"]
	_, hasError := m["error"]
	if !hasID || string(rawID) == "null" || (!hasResult && !hasError) {
		return nil, `a message needs a "method" (a request or a notification), or an "id" and a "result" or an "error" (a response)`
	}
	return nil, ""
}

func isStringOrNumber(v json.RawMessage) bool {
	return len(v) > 0 && (v[0] == '"' || v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}

// sniffRequestID finds the id of a request in the start of a line too long
// to parse: the value of a top-level "id" that is a string or a number,
// when a top-level "method" shows the line to be a request. It reads
// members up to where the prefix ends.
func sniffRequestID(prefix []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var id json.RawMessage
	method := false
	for dec.More() && (id == nil || !method) {
		key, err := dec.Token()
		if err != nil {
			break
		}
		tok, err := readValue(dec)
		if err != nil {
			break
		}
		switch key {
		case "id":
			switch v := tok.(type) {
			case string:
				id, _ = json.Marshal(v)
			case json.Number:
				id = json.RawMessage(v)
			}
		case "method":
			_, method = tok.(string)
		}
	}
	if !method {
		return nil
	}
	return id
}

// readValue reads one JSON value from dec: it returns a scalar's token, or
// reads an object or array to its end and returns its opening delimiter.
func readValue(dec *json.Decoder) (json.Token, error) {
	first, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := first.(json.Delim); !ok || (d != '{' && d != '[') {
		return first, nil
	}
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return first, nil
}

// errorReply is a JSON-RPC error response for id (nil: null), one line.
func errorReply(id json.RawMessage, code int, message string, data any) []byte {
	type wireError struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}
	if id == nil {
		id = json.RawMessage("null")
	}
	b, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   wireError       `json:"error"`
	}{"2.0", id, wireError{code, message, data}})
	if err != nil {
		// Only an id json cannot re-encode gets here; answer with null.
		return errorReply(nil, code, message, data)
	}
	return append(b, '\n')
}

// Read implements mcp.Connection.
func (c *stdioConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-c.incoming:
		return r.msg, r.err
	case <-c.closed:
		return nil, io.EOF
	}
}

// Write implements mcp.Connection.
func (c *stdioConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("encoding a message for the client: %w", err)
	}
	return c.writeLine(append(b, '\n'))
}

func (c *stdioConn) writeLine(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err := c.out.Write(b)
	return err
}

// Close implements mcp.Connection. It closes the input, when it can be
// closed, so that the read loop ends.
func (c *stdioConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		if cl, ok := c.in.(io.Closer); ok {
			err = cl.Close()
		}
	})
	return err
}

// SessionID implements mcp.Connection: a stdio session has no id.
func (c *stdioConn) SessionID() string { return "" }
