package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cordon-sandbox/cordon/internal/approval/internal/state"
)

// The inbox's API for requesters (package approval/inbox serves it).
const (
	// InboxAskPath takes a Request as JSON (POST, "Authorization: Bearer"
	// with the requester token), holds it until a human answers, and
	// returns the Answer as JSON. Closing the connection withdraws it.
	InboxAskPath = "/api/ask"
	// InboxTimeoutHeader carries how many seconds the requester waits.
	InboxTimeoutHeader = "Cordon-Timeout"
)

// inboxGrace is how many seconds the inbox waits beyond the requester.
const inboxGrace = 5

// NewInbox returns the approver that submits requests to the web inbox
// started by `cordon approve`, found through the file it publishes in
// stateDir, and waits for the answer. Without a running inbox it is
// unavailable. status receives one line per request so the user knows
// where to answer; nil discards it.
func NewInbox(stateDir string, status io.Writer) Approver {
	if status == nil {
		status = io.Discard
	}
	return &inboxClient{stateDir: stateDir, status: status}
}

type inboxClient struct {
	stateDir string
	status   io.Writer
}

const inboxSetup = "start `cordon approve` in another terminal and open the URL it prints"

func (c *inboxClient) Ask(ctx context.Context, r Request) (Answer, error) {
	ans := Answer{Channel: ChannelWeb}
	ep, err := state.ReadInbox(c.stateDir)
	if errors.Is(err, state.ErrNoInbox) {
		return ans, &UnavailableError{Channel: ChannelWeb, Why: "no approval inbox is running", Setup: inboxSetup}
	}
	if err != nil {
		return ans, &UnavailableError{Channel: ChannelWeb, Why: err.Error(), Setup: inboxSetup}
	}
	base, err := loopbackURL(ep.URL)
	if err != nil {
		return ans, &UnavailableError{Channel: ChannelWeb, Why: err.Error(), Setup: "stop the approval inbox and start it again"}
	}
	body, err := json.Marshal(r)
	if err != nil {
		return ans, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+InboxAskPath, bytes.NewReader(body))
	if err != nil {
		return ans, err
	}
	req.Header.Set("Authorization", "Bearer "+ep.Token)
	req.Header.Set("Content-Type", "application/json")
	if dl, ok := ctx.Deadline(); ok {
		// The inbox's own deadline is a backstop for a requester that
		// vanished without closing its connection; normally this side's
		// deadline comes first and closing the connection withdraws the
		// question.
		req.Header.Set(InboxTimeoutHeader, strconv.FormatInt(int64(time.Until(dl)/time.Second)+inboxGrace, 10))
	}
	fmt.Fprintf(c.status, "cordon: waiting for approval in the inbox (%s): %s\n", base, shown(r.shownCommand()))

	resp, err := inboxHTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ans, ctx.Err()
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return ans, &UnavailableError{Channel: ChannelWeb, Why: fmt.Sprintf("the inbox at %s does not answer (%v)", base, op.Err), Setup: inboxSetup}
		}
		return ans, fmt.Errorf("approval inbox: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		if ctx.Err() != nil {
			return ans, ctx.Err()
		}
		return ans, fmt.Errorf("approval inbox: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return ans, fmt.Errorf("approval inbox refused the request: %s: %s", resp.Status, excerpt(data))
	}
	var got Answer
	if err := json.Unmarshal(data, &got); err != nil {
		return ans, fmt.Errorf("approval inbox sent an answer that is not JSON: %q", excerpt(data))
	}
	got.Channel = ChannelWeb
	return got, nil
}

// inboxHTTP never uses a proxy: the requester token must go to the
// inbox on this machine's loopback and nowhere else.
var inboxHTTP = &http.Client{Transport: &http.Transport{
	Proxy:               nil,
	DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	MaxIdleConnsPerHost: 1,
}}

// loopbackURL checks that the published address is http on 127.0.0.1, so
// that a tampered file cannot send the token elsewhere, and returns it
// without a trailing slash.
func loopbackURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("the inbox's published address %q is not http://127.0.0.1:PORT", raw)
	}
	return "http://" + u.Host, nil
}
