package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/approval"
	"github.com/cordon-sandbox/cordon/internal/approval/internal/state"
)

func startInbox(t *testing.T) (*Server, string) {
	t.Helper()
	t.Setenv("XDG_STATE_HOME", "")
	home := t.TempDir()
	s, err := Start(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, home
}

// browser is a logged-in browser, as far as HTTP goes.
type browser struct {
	t      *testing.T
	s      *Server
	client *http.Client
}

func login(t *testing.T, s *Server) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, s: s, client: &http.Client{Jar: jar}}
	resp, err := b.client.Get(s.LoginURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != s.URL()+"/" {
		t.Fatalf("login ended at %s with %s, want the page at %s/ without the token", resp.Request.URL, resp.Status, s.URL())
	}
	return b
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.client.Get(b.s.URL() + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var (
	csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	idRe   = regexp.MustCompile(`data-id="([0-9a-f]+)"`)
)

// waitQuestion waits until the page lists a question and returns its id
// and the page's CSRF token.
func (b *browser) waitQuestion(n int) (ids []string, csrf, page string) {
	b.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		_, page = b.get("/")
		m := idRe.FindAllStringSubmatch(page, -1)
		if len(m) >= n {
			for _, x := range m {
				ids = append(ids, x[1])
			}
			return ids, csrfRe.FindStringSubmatch(page)[1], page
		}
	}
	b.t.Fatalf("the page never listed %d questions:\n%s", n, page)
	return nil, "", ""
}

func (b *browser) decide(form url.Values, header http.Header) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.s.URL()+"/decide", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.s.URL())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		req.Header[k] = v
	}
	client := *b.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

type asked struct {
	ans approval.Answer
	err error
}

// ask submits r through the real client and returns where its answer
// will arrive.
func ask(home string, timeout time.Duration, r approval.Request) <-chan asked {
	ch := make(chan asked, 1)
	go func() {
		a, err := approval.Chain(timeout, approval.NewInbox(state.Dir(home), nil)).Ask(context.Background(), r)
		ch <- asked{a, err}
	}()
	return ch
}

func waitAnswer(t *testing.T, ch <-chan asked) asked {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("the requester never got an answer")
	}
	return asked{}
}

var push = approval.Request{Command: "git push origin main", Argv: []string{"git", "push", "origin", "main"},
	Cwd: "/w", Workspace: "/w", Session: "s1", Category: "pr-merge", Rule: "pr-merge/git-push-protected", Reason: "pushes to a protected branch"}

func TestAnswersReachTheRequester(t *testing.T) {
	tests := []struct {
		name   string
		form   url.Values
		want   approval.Answer
		listed string
	}{
		{"allow once", url.Values{"answer": {"allow:once"}}, approval.Answer{Decision: approval.Allow, Scope: approval.ScopeOnce}, "allowed once"},
		{"allow for the session", url.Values{"answer": {"allow:session"}}, approval.Answer{Decision: approval.Allow, Scope: approval.ScopeSession}, "allowed for this session"},
		{"allow always", url.Values{"answer": {"allow:always"}}, approval.Answer{Decision: approval.Allow, Scope: approval.ScopeAlways}, "allowed always"},
		{"deny with a reason", url.Values{"answer": {"deny"}, "reason": {"use a pull request"}}, approval.Answer{Decision: approval.Deny, Reason: "use a pull request"}, "denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, home := startInbox(t)
			b := login(t, s)
			ch := ask(home, time.Minute, push)
			ids, csrf, page := b.waitQuestion(1)
			for _, want := range []string{"git push origin main", "pr-merge/git-push-protected", "pushes to a protected branch", "Allow once", "Allow for this session", "Allow always", "Deny"} {
				if !strings.Contains(page, want) {
					t.Errorf("the page does not show %q", want)
				}
			}
			tt.form.Set("id", ids[0])
			tt.form.Set("csrf", csrf)
			if code, body := b.decide(tt.form, nil); code != http.StatusSeeOther {
				t.Fatalf("decide: %d %s", code, body)
			}
			got := waitAnswer(t, ch)
			if got.err != nil {
				t.Fatal(got.err)
			}
			a := got.ans
			if a.Decision != tt.want.Decision || a.Scope != tt.want.Scope || a.Channel != approval.ChannelWeb || a.Approver == "" ||
				(tt.want.Reason != "" && a.Reason != tt.want.Reason) {
				t.Fatalf("the requester got %+v, want %+v from the web", a, tt.want)
			}
			_, page = b.get("/")
			if !strings.Contains(page, tt.listed) || strings.Contains(page, `data-id="`+ids[0]+`"`) {
				t.Errorf("the page should list the decision %q and no longer the question:\n%s", tt.listed, page)
			}
		})
	}
}

func TestNothingWithoutASecret(t *testing.T) {
	s, home := startInbox(t)
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/", "/list", "/events", "/static/app.js", "/static/style.css", "/api/status", "/login", "/login?token=" + strings.Repeat("0", 64)} {
		resp, err := plain.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s without a secret: %s", path, resp.Status)
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("GET %s without a secret set a cookie", path)
		}
		if strings.Contains(string(body), "<html") {
			t.Errorf("GET %s without a secret served the page", path)
		}
	}
	resp, err := plain.PostForm(s.URL()+"/decide", url.Values{"answer": {"allow:once"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /decide without a cookie: %s", resp.Status)
	}

	// The two secrets are not interchangeable: the requester token does
	// not log a browser in, and the login token does not submit questions.
	ep, err := state.ReadInbox(state.Dir(home))
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = plain.Get(s.URL() + "/login?token=" + ep.Token)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the requester token logged a browser in: %s", resp.Status)
	}
	loginToken := strings.TrimPrefix(s.LoginURL(), s.URL()+"/login?token=")
	for _, token := range []string{"", "wrong", loginToken} {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+approval.InboxAskPath, strings.NewReader(`{"command":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("asking with token %q: %s", token, resp.Status)
		}
	}
	if strings.Contains(mustRead(t, state.InboxFile(state.Dir(home))), loginToken) {
		t.Error("the login token was written to disk")
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestForgedAnswersAreRefused(t *testing.T) {
	s, home := startInbox(t)
	b := login(t, s)
	ch := ask(home, time.Minute, push)
	ids, csrf, _ := b.waitQuestion(1)
	good := func() url.Values { return url.Values{"id": {ids[0]}, "csrf": {csrf}, "answer": {"allow:once"}} }
	tests := []struct {
		name   string
		form   url.Values
		header http.Header
		code   int
	}{
		{"no CSRF token", url.Values{"id": {ids[0]}, "answer": {"allow:once"}}, nil, http.StatusForbidden},
		{"wrong CSRF token", url.Values{"id": {ids[0]}, "csrf": {strings.Repeat("a", 64)}, "answer": {"allow:once"}}, nil, http.StatusForbidden},
		{"another origin", good(), http.Header{"Origin": {"http://evil.example"}}, http.StatusForbidden},
		{"another port of 127.0.0.1", good(), http.Header{"Origin": {"http://127.0.0.1:1"}}, http.StatusForbidden},
		{"cross-site fetch", good(), http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{"same-site but not same-origin", good(), http.Header{"Sec-Fetch-Site": {"same-site"}}, http.StatusForbidden},
		{"a scope not offered", url.Values{"id": {ids[0]}, "csrf": {csrf}, "answer": {"allow:forever"}}, nil, http.StatusBadRequest},
		{"no answer", url.Values{"id": {ids[0]}, "csrf": {csrf}}, nil, http.StatusBadRequest},
	}
	for _, tt := range tests {
		if code, body := b.decide(tt.form, tt.header); code != tt.code {
			t.Errorf("%s: %d %s, want %d", tt.name, code, body, tt.code)
		}
	}
	// Another browser session's CSRF token does not work in this one.
	other := login(t, s)
	_, otherCSRF, _ := other.waitQuestion(1)
	if code, _ := b.decide(url.Values{"id": {ids[0]}, "csrf": {otherCSRF}, "answer": {"allow:once"}}, nil); code != http.StatusForbidden {
		t.Errorf("a CSRF token of another session was accepted: %d", code)
	}
	select {
	case a := <-ch:
		t.Fatalf("a forged answer reached the requester: %+v", a)
	default:
	}
	if code, _ := b.decide(good(), nil); code != http.StatusSeeOther {
		t.Fatalf("the genuine answer was refused: %d", code)
	}
	if a := waitAnswer(t, ch); !a.ans.Allowed() {
		t.Fatalf("answer = %+v", a)
	}
	// A second answer to the same question changes nothing.
	if code, _ := b.decide(url.Values{"id": {ids[0]}, "csrf": {csrf}, "answer": {"deny"}}, nil); code != http.StatusConflict {
		t.Errorf("a second answer: %d, want 409", code)
	}
}

func TestOnlyItsOwnHost(t *testing.T) {
	s, _ := startInbox(t)
	b := login(t, s)
	port := s.host[strings.LastIndex(s.host, ":"):]
	for _, host := range []string{"localhost" + port, "evil.example" + port, "127.0.0.1", "127.0.0.2" + port} {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/", nil)
		req.Host = host
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: %s, want 421", host, resp.Status)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	s, _ := startInbox(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.LoginURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("login Referrer-Policy = %q", got)
	}
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Errorf("login redirects to %q, want / (without the token)", loc)
	}
	c := resp.Cookies()
	if len(c) != 1 || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || strings.Contains(s.LoginURL(), c[0].Value) {
		t.Fatalf("cookie %+v: want one HttpOnly SameSite=Strict cookie that is not the login token", c)
	}
	b := login(t, s)
	r, _ := b.client.Get(s.URL() + "/")
	r.Body.Close()
	for k, want := range map[string]string{
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
		"Content-Security-Policy": "default-src 'none'; script-src 'self'",
	} {
		if got := r.Header.Get(k); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestQuestionsAreShownEscaped(t *testing.T) {
	s, home := startInbox(t)
	b := login(t, s)
	r := approval.Request{Command: "echo <script>alert(1)</script>\x1b]0;x\x07 \u202egnp.exe", Cwd: "/w\"><img src=x>", Reason: "</code><b>bold</b>"}
	ch := ask(home, time.Minute, r)
	_, _, page := b.waitQuestion(1)
	for _, bad := range []string{"<script>alert", "<img src=x>", "<b>bold", "\x1b", "\u202e"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", `\x1b]0;x\x07`, `\u202egnp.exe`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	s.Close()
	if a := waitAnswer(t, ch); a.ans.Allowed() {
		t.Fatal("allowed")
	}
}

func TestRequesterGivingUpWithdrawsTheQuestion(t *testing.T) {
	s, home := startInbox(t)
	b := login(t, s)
	ch := ask(home, 500*time.Millisecond, push)
	b.waitQuestion(1)
	a := waitAnswer(t, ch)
	if a.err != nil || a.ans.Allowed() || !a.ans.TimedOut {
		t.Fatalf("answer = %+v, %v; want a timed-out deny", a.ans, a.err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, page := b.get("/")
		if strings.Contains(page, "Nothing is waiting") && strings.Contains(page, "withdrawn") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the question stayed listed after the requester left:\n%s", page)
		}
	}
}

func TestInboxTimeoutAndStop(t *testing.T) {
	s, home := startInbox(t)
	ep, _ := state.ReadInbox(state.Dir(home))
	// The inbox's own deadline (the requester's timeout) ends a question
	// nobody answers.
	req, _ := http.NewRequest(http.MethodPost, s.URL()+approval.InboxAskPath, strings.NewReader(`{"command":"npm ci"}`))
	req.Header.Set("Authorization", "Bearer "+ep.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(approval.InboxTimeoutHeader, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var a approval.Answer
	json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if a.Decision != approval.Deny || !a.TimedOut {
		t.Fatalf("answer = %+v, want a timed-out deny", a)
	}
	// Stopping the inbox denies what waits, and withdraws the address.
	ch := ask(home, time.Minute, push)
	login(t, s).waitQuestion(1)
	s.Close()
	got := waitAnswer(t, ch)
	if got.ans.Allowed() {
		t.Fatalf("answer = %+v", got.ans)
	}
	if _, err := os.Stat(state.InboxFile(state.Dir(home))); !os.IsNotExist(err) {
		t.Errorf("the address file outlived the inbox: %v", err)
	}
	var u *approval.UnavailableError
	if _, err := approval.NewInbox(state.Dir(home), nil).Ask(context.Background(), push); !errors.As(err, &u) {
		t.Errorf("after the inbox stopped: %v, want unavailable", err)
	}
}

func TestOneInboxAtATime(t *testing.T) {
	s, home := startInbox(t)
	_, err := Start(Options{Home: home})
	var running *state.RunningError
	if !errors.As(err, &running) || running.Endpoint.URL != s.URL() {
		t.Fatalf("second inbox: %v, want a RunningError naming %s", err, s.URL())
	}
}

func TestClientRefusesAStaleOrUntrustedAddressFile(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "")
	home := t.TempDir()
	dir := state.Dir(home)
	file := state.InboxFile(dir)
	os.MkdirAll(filepath.Dir(file), 0o700)
	var u *approval.UnavailableError
	// A file left behind by an inbox that is gone: no process holds the lock.
	os.WriteFile(file, []byte(`{"url":"http://127.0.0.1:9","token":"t"}`), 0o600)
	if _, err := approval.NewInbox(dir, nil).Ask(context.Background(), push); !errors.As(err, &u) || !strings.Contains(err.Error(), "no approval inbox is running") {
		t.Errorf("stale file: %v", err)
	}
	// A running inbox whose file others could have written is not trusted.
	s, err := Start(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	os.Chmod(file, 0o644)
	if _, err := approval.NewInbox(dir, nil).Ask(context.Background(), push); !errors.As(err, &u) || !strings.Contains(err.Error(), "mode") {
		t.Errorf("file readable by others: %v", err)
	}
	os.Chmod(file, 0o600)
	// A published address that is not 127.0.0.1 is not used: the token
	// would go elsewhere.
	ep, _ := state.ReadInbox(dir)
	for _, bad := range []string{"http://example.com:80", "https://127.0.0.1:" + strings.Split(s.host, ":")[1], "http://user@127.0.0.1:1", "http://127.0.0.1"} {
		ep2 := ep
		ep2.URL = bad
		data, _ := json.Marshal(ep2)
		state.WriteFileAtomic(file, data)
		if _, err := approval.NewInbox(dir, nil).Ask(context.Background(), push); !errors.As(err, &u) {
			t.Errorf("address %q: %v, want unavailable", bad, err)
		}
	}
}

func TestTooManyQuestions(t *testing.T) {
	s, home := startInbox(t)
	ep, _ := state.ReadInbox(state.Dir(home))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range maxPending {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+approval.InboxAskPath, strings.NewReader(fmt.Sprintf(`{"command":"make %d"}`, i)))
			req.Header.Set("Authorization", "Bearer "+ep.Token)
			req.Header.Set("Content-Type", "application/json")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		n := len(s.pending)
		s.mu.Unlock()
		if n == maxPending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d questions arrived", n)
		}
	}
	_, err := approval.Chain(time.Minute, approval.NewInbox(state.Dir(home), nil)).Ask(context.Background(), push)
	if err == nil || !strings.Contains(err.Error(), "already waiting") {
		t.Fatalf("question %d: %v, want a refusal", maxPending+1, err)
	}
}
