//go:build linux

package approval

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cordon-sandbox/cordon/internal/approval"
	"github.com/cordon-sandbox/cordon/sandbox"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

// chromium finds the browser; the test needs one (see README.md).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CORDON_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const need = "the browser test needs Chromium: install it with `apt-get install -y chromium` (Debian), or point CORDON_TEST_CHROMIUM at a Chrome or Chromium binary"
	testbin.RequireOrSkip(t, need)
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // Chromium's own sandbox refuses to run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// step runs browser actions with a bound on how long they may wait.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

type asked struct {
	ans approval.Answer
	err error
}

// ask puts a question to the inbox the way cordon run does, and returns
// where the answer arrives.
func (e *env) ask(r approval.Request) <-chan asked {
	ch := make(chan asked, 1)
	go func() {
		a, err := approval.Chain(2*time.Minute, approval.NewInbox(sandbox.StateDir(e.home), nil)).Ask(context.Background(), r)
		ch <- asked{a, err}
	}()
	return ch
}

func waitAnswer(t *testing.T, ch <-chan asked, what string) asked {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(90 * time.Second):
		t.Fatalf("%s: the requester never got an answer", what)
	}
	return asked{}
}

func TestBrowserApprovesAndDenies(t *testing.T) {
	e := newEnv(t)
	inbox := e.startInbox()
	ctx := newBrowser(t)

	// Every request the browser makes, with its Referer, to check that the
	// login token never leaves the address bar of the first navigation.
	var mu sync.Mutex
	var requests []string
	chromedp.Listen(ctx, func(ev any) {
		if r, ok := ev.(*network.EventRequestWillBeSent); ok && r.Request != nil {
			referer, _ := r.Request.Headers["Referer"].(string)
			mu.Lock()
			requests = append(requests, r.Request.URL+" referer="+referer)
			mu.Unlock()
		}
	})

	step(t, ctx, "log in", chromedp.Navigate(inbox.loginURL), chromedp.WaitVisible(chromedp.ID("lists")))
	if loc := value(t, ctx, "location", chromedp.Location()); loc != inbox.baseURL+"/" {
		t.Fatalf("after logging in the browser shows %s, want %s/ (no token in the address bar)", loc, inbox.baseURL)
	}
	step(t, ctx, "live updates connect", chromedp.WaitVisible(chromedp.CSS(`#live[data-state="live"]`)))
	// Marks this page load: if the question below appears after a reload
	// rather than live, the mark is gone.
	step(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`window.cordonTestMark = 42`))

	// 1. Allow for the session.
	push := approval.Request{Command: "git push origin main", Argv: []string{"git", "push", "origin", "main"},
		Cwd: e.ws, Workspace: e.ws, Session: "agent-session-1", Category: "pr-merge", Rule: "pr-merge/git-push-protected",
		Reason: "pushes to a protected branch"}
	pushAnswer := e.ask(push)
	step(t, ctx, "the question appears", chromedp.WaitVisible(chromedp.CSS("article.question")))
	if mark := value(t, ctx, "read the mark", chromedp.Evaluate[int](`window.cordonTestMark || 0`)); mark != 42 {
		t.Errorf("the question appeared only after a reload, not live")
	}
	text := value(t, ctx, "read the question", chromedp.Text(chromedp.CSS("article.question")))
	for _, want := range []string{"git push origin main", e.ws, "pr-merge/git-push-protected", "pushes to a protected branch", "agent-session-1"} {
		if !strings.Contains(text, want) {
			t.Errorf("the question does not show %q:\n%s", want, text)
		}
	}
	step(t, ctx, "allow for the session", chromedp.Click(chromedp.CSS("article.question button.allow-session")))
	got := waitAnswer(t, pushAnswer, "allow")
	if got.err != nil || got.ans.Decision != approval.Allow || got.ans.Scope != approval.ScopeSession ||
		got.ans.Channel != approval.ChannelWeb || got.ans.Approver == "" {
		t.Fatalf("the requester got %+v (%v), want allow for the session from the web", got.ans, got.err)
	}
	step(t, ctx, "the decision is listed", chromedp.WaitVisible(chromedp.CSS(`tr.decided[data-outcome="allowed for this session"]`)))

	// 2. Deny with a reason for the agent.
	rm := approval.Request{Command: "rm -rf ~/", Argv: []string{"rm", "-rf", e.home + "/"}, Cwd: e.ws, Workspace: e.ws,
		Category: "destructive", Reason: "deletes the home directory"}
	rmAnswer := e.ask(rm)
	step(t, ctx, "the second question appears", chromedp.WaitVisible(chromedp.CSS("article.question")))
	if text := value(t, ctx, "read the question", chromedp.Text(chromedp.CSS("article.question"))); !strings.Contains(text, "rm -rf ~/") {
		t.Fatalf("the second question shows:\n%s", text)
	}
	if n := value(t, ctx, "count the allow buttons", chromedp.Evaluate[int](`document.querySelectorAll("article.question button.allow-session").length`)); n != 0 {
		t.Errorf("a question without a session id offers \"for this session\"")
	}
	step(t, ctx, "deny with a reason",
		chromedp.SendKeys(chromedp.CSS(`article.question input[name="reason"]`), "run the tests instead"),
		chromedp.Click(chromedp.CSS("article.question button.deny")))
	got = waitAnswer(t, rmAnswer, "deny")
	if got.err != nil || got.ans.Allowed() || got.ans.Channel != approval.ChannelWeb || got.ans.Reason != "run the tests instead" {
		t.Fatalf("the requester got %+v (%v), want a deny from the web with the reason", got.ans, got.err)
	}
	step(t, ctx, "the deny is listed",
		chromedp.WaitVisible(chromedp.CSS(`tr.decided[data-outcome="denied"]`)),
		chromedp.WaitNotPresent(chromedp.CSS("article.question")))

	// 3. A requester that gives up: the question disappears from the page.
	gone := make(chan asked, 1)
	go func() {
		a, err := approval.Chain(3*time.Second, approval.NewInbox(sandbox.StateDir(e.home), nil)).
			Ask(context.Background(), approval.Request{Command: "npm install left-pad", Argv: []string{"npm", "install", "left-pad"}})
		gone <- asked{a, err}
	}()
	step(t, ctx, "the third question appears", chromedp.WaitVisible(chromedp.CSS("article.question")))
	if a := waitAnswer(t, gone, "timeout"); a.err != nil || a.ans.Allowed() || !a.ans.TimedOut {
		t.Fatalf("the requester got %+v (%v), want a timed-out deny", a.ans, a.err)
	}
	step(t, ctx, "the withdrawn question leaves the page",
		chromedp.WaitNotPresent(chromedp.CSS("article.question")),
		chromedp.WaitVisible(chromedp.CSS(`tr.decided[data-outcome^="withdrawn"]`)))

	mu.Lock()
	for i, r := range requests {
		if i > 0 && strings.Contains(r, "token=") {
			t.Errorf("the login token left the first navigation: %s", r)
		}
	}
	mu.Unlock()
	if !strings.Contains(inbox.log(), "allowed for this session by") || !strings.Contains(inbox.log(), "denied by") {
		t.Errorf("the inbox's log misses the decisions:\n%s", inbox.log())
	}
}

func TestBrowserWithoutTheTokenSeesNothing(t *testing.T) {
	e := newEnv(t)
	inbox := e.startInbox()
	ctx := newBrowser(t)
	q := e.ask(approval.Request{Command: "terraform apply", Argv: []string{"terraform", "apply"}})
	for _, path := range []string{"/", "/list", "/static/app.js", "/login?token=" + strings.Repeat("ab", 32)} {
		step(t, ctx, "open "+path, chromedp.Navigate(inbox.baseURL+path))
		body := value(t, ctx, "read "+path, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if strings.Contains(body, "terraform") || !(strings.Contains(body, "Not logged in") || strings.Contains(body, "not valid")) {
			t.Errorf("%s without the token shows:\n%s", path, body)
		}
	}
	// A page on another origin cannot answer either: it has no cookie it
	// could send (SameSite=Strict) and no CSRF token.
	other := fmt.Sprintf(`<form id=f method=post action="%s/decide"><input name=answer value="allow:once"></form><script>document.getElementById("f").submit()</script>`, inbox.baseURL)
	step(t, ctx, "log in", chromedp.Navigate(inbox.loginURL), chromedp.WaitVisible(chromedp.CSS("article.question")))
	step(t, ctx, "a cross-site form", chromedp.Navigate("data:text/html,"+strings.ReplaceAll(other, "#", "%23")))
	// The form posts itself; wait until the inbox's reply to it is shown,
	// so the post has certainly been judged.
	var reply string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		loc := value(t, ctx, "location", chromedp.Location())
		if loc == inbox.baseURL+"/decide" {
			reply = value(t, ctx, "read the reply", chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			if reply != "" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cross-site form never posted (the browser is at %s)", loc)
		}
	}
	if !strings.Contains(reply, "Not logged in") && !strings.Contains(reply, "cross-site") {
		t.Errorf("the inbox answered the cross-site post with %q", reply)
	}
	select {
	case a := <-q:
		t.Fatalf("a cross-site form answered the question: %+v", a)
	default:
	}
	step(t, ctx, "back to the inbox", chromedp.Navigate(inbox.baseURL+"/"), chromedp.WaitVisible(chromedp.CSS("article.question")))
}
