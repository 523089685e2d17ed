package mcpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxLineBytes is the longest line, not counting its newline, that
// ServeStdio reads as one message: 4 MiB. A tool call's arguments are a
// command line and the text for its standard input; 4 MiB is twice what
// Linux lets a command line and its environment take (ARG_MAX), and it
// bounds what one line can make the server hold in memory. A longer line
// is read to its end, answered with an error, and dropped.
const MaxLineBytes = 4 << 20

// newStdioConn starts reading lines from in; messages come on incoming,
// and every other line is answered on out.
func newStdioConn(in io.Reader, out io.Writer, max int, logf func(format string, args ...any)) *stdioConn {
	c := &stdioConn{
		in:       in,
		out:      out,
		logf:     logf,
		incoming: make(chan readResult),
		closed:   make(chan struct{}),
		broken:   make(chan error, 1),
	}
	go c.readLoop(max)
	return c
}

type readResult struct {
	msg *message
	err error
}

// stdioConn is one session's connection. Only messages go on to the
// session: every other line is answered here, so no line a client sends
// can end the session.
type stdioConn struct {
	in   io.Reader
	out  io.Writer
	logf func(format string, args ...any)

	// writeMu keeps each line whole: calls answer from goroutines of
	// their own, and the read loop writes its error answers.
	writeMu sync.Mutex
	// werr is the first write error; after it nothing is written, and
	// broken has it.
	werr   error
	broken chan error

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
				c.writeLine(reply) //nolint:errcheck // a write error ends the session (broken)
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

// judgeLine decides what one line of n bytes is: a message for the session
// (msg), an error answer for the client (reply, with why for the log), or
// nothing at all (blank).
func judgeLine(line []byte, n, max int) (msg *message, reply []byte, why string) {
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
	m, id, problem := checkMessage(raw)
	if problem != "" {
		return nil, errorReply(id, codeInvalidRequest, "Invalid Request: "+problem, nil), problem
	}
	// Nothing the server reads nests this deep; a bound keeps what one
	// line can make it do small.
	if d := nesting(raw); d > maxNesting {
		return nil, errorReply(id, codeInvalidRequest, "Invalid Request: the server cannot decode this message", nil),
			fmt.Sprintf("nested %d levels deep, more than %d", d, maxNesting)
	}
	msg = &message{id: id}
	if rawMethod, ok := m["method"]; ok {
		json.Unmarshal(rawMethod, &msg.method) //nolint:errcheck // checkMessage made sure it is a string
		if p := m["params"]; string(p) != "null" {
			msg.params = p
		}
	}
	return msg, nil, ""
}

// maxNesting is how deeply a message may nest objects and arrays.
const maxNesting = 1000

// nesting is how deeply b, valid JSON, nests objects and arrays.
func nesting(b []byte) int {
	depth, max := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				max = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return max
}

// checkMessage checks that obj, a JSON object, is a JSON-RPC 2.0 request,
// notification or response, and returns its members. It returns what is
// wrong, and the id to answer with: the request's id when it has a method
// and an id that is a string or a number, nil (null) otherwise, so that
// no answer is ever taken for the answer to one of the client's own
// calls. Member names are matched exactly: "Method" is not "method".
func checkMessage(obj []byte) (m map[string]json.RawMessage, id json.RawMessage, problem string) {
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, nil, "a JSON-RPC message is a JSON object"
	}
	rawID, hasID := m["id"]
	rawMethod, hasMethod := m["method"]
	idOK := !hasID || isStringOrNumber(rawID) || string(rawID) == "null"
	if hasMethod && hasID && isStringOrNumber(rawID) {
		id = rawID
	}
	var version string
	if err := json.Unmarshal(m["jsonrpc"], &version); err != nil || version != "2.0" {
		return nil, id, `"jsonrpc" must be "2.0"`
	}
	if !idOK || (hasMethod && hasID && id == nil) {
		// MCP: a request's id is a string or a number, never null.
		return nil, nil, `"id" must be a string or a number`
	}
	if hasMethod {
		var method string
		if rawMethod[0] != '"' || json.Unmarshal(rawMethod, &method) != nil {
			return nil, id, `"method" must be a string`
		}
		return m, id, ""
	}
	_, hasResult := m["result"]
	_, hasError := m["error"]
	if !hasID || string(rawID) == "null" || (!hasResult && !hasError) {
		return nil, nil, `a message needs a "method" (a request or a notification), or an "id" and a "result" or an "error" (a response)`
	}
	return m, nil, ""
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

// writeLine writes one line, whole. After a failure it writes nothing
// more, and the session ends (broken).
func (c *stdioConn) writeLine(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.werr != nil {
		return c.werr
	}
	if _, err := c.out.Write(b); err != nil {
		c.werr = err
		c.broken <- err
		return err
	}
	return nil
}

// Close stops the read loop: it closes the input, when it can be closed,
// so that a read in progress ends.
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
