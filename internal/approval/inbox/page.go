package inbox

import (
	"bytes"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/cordon-sandbox/cordon/internal/approval"
)

// pageData is what the page template renders.
type pageData struct {
	CSRF    string
	Pending []pendingView
	Recent  []decided
	Now     time.Time
}

type pendingView struct {
	ID       string
	Kind     string
	Fields   []approval.Field
	Scopes   []string
	Created  time.Time
	Deadline int64 // Unix milliseconds, for the countdown
}

func (s *Server) data(sess *browserSession) pageData {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := pageData{CSRF: sess.csrf, Recent: append([]decided(nil), s.recent...), Now: time.Now()}
	for _, id := range s.order {
		p := s.pending[id]
		kind := p.req.Kind
		if kind == "" {
			kind = approval.KindCommand
		}
		d.Pending = append(d.Pending, pendingView{ID: p.id, Kind: kind, Fields: p.req.Fields(), Scopes: p.scopes,
			Created: p.created, Deadline: p.deadline.UnixMilli()})
	}
	return d
}

func (s *Server) render(w http.ResponseWriter, name string, d pageData) {
	var buf bytes.Buffer
	if err := s.page.ExecuteTemplate(&buf, name, d); err != nil {
		http.Error(w, "the page could not be rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request, sess *browserSession) {
	s.render(w, "index.html", s.data(sess))
}

// handleList renders the lists alone; the page's script swaps them in
// when the server says something changed.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, sess *browserSession) {
	s.render(w, "lists", s.data(sess))
}

// handleEvents streams "changed" events (server-sent events) while the
// page is open.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, _ *browserSession) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported", http.StatusInternalServerError)
		return
	}
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subscribers[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subscribers, ch)
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-ch:
			s.mu.Lock()
			v := s.version
			s.mu.Unlock()
			fmt.Fprintf(w, "event: changed\ndata: %d\n\n", v)
		case <-heartbeat.C:
			fmt.Fprint(w, ": still here\n\n")
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
		flusher.Flush()
	}
}

// handleDecide takes a human's answer from the page's form.
func (s *Server) handleDecide(w http.ResponseWriter, r *http.Request, sess *browserSession) {
	if !s.sameOrigin(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !equalSecret(r.PostForm.Get("csrf"), sess.csrf) {
		http.Error(w, "the form's CSRF token is missing or wrong; reload the page", http.StatusForbidden)
		return
	}
	id := r.PostForm.Get("id")
	ans := approval.Answer{Channel: approval.ChannelWeb, Approver: s.approver}
	switch choice := r.PostForm.Get("answer"); {
	case choice == "deny":
		ans.Decision = approval.Deny
		ans.Reason = strings.TrimSpace(r.PostForm.Get("reason"))
		if len(ans.Reason) > maxReasonLen {
			ans.Reason = ans.Reason[:maxReasonLen]
		}
		if ans.Reason == "" {
			ans.Reason = "denied in the approval inbox"
		}
	case strings.HasPrefix(choice, "allow:"):
		ans.Decision, ans.Scope = approval.Allow, strings.TrimPrefix(choice, "allow:")
		if !s.offers(id, ans.Scope) {
			http.Error(w, fmt.Sprintf("scope %q is not offered for this question", ans.Scope), http.StatusBadRequest)
			return
		}
	default:
		http.Error(w, "answer must be deny or allow:SCOPE", http.StatusBadRequest)
		return
	}
	if !s.answer(id, ans) {
		http.Error(w, errNotPending.Error(), http.StatusConflict)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// sameOrigin checks the headers browsers send about where a request comes
// from. A header that is absent is not held against the request (the CSRF
// token and the SameSite cookie still apply); one that names another
// origin is.
func (s *Server) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != s.URL() {
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	return true
}

func (s *Server) offers(id, scope string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[id]
	if !ok {
		return true // answer() reports that it is gone
	}
	for _, sc := range p.scopes {
		if sc == scope {
			return true
		}
	}
	return false
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request, _ *browserSession) {
	name := r.PathValue("file")
	if name != path.Base(name) || strings.HasPrefix(name, ".") || name == "index.html" {
		http.NotFound(w, r)
		return
	}
	data, err := fs.ReadFile(assets, "assets/"+name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(data)
}

// scopeButton is how the page names an allow scope.
func scopeButton(scope string) string {
	switch scope {
	case approval.ScopeOnce:
		return "once"
	case approval.ScopeSession:
		return "for this session"
	case approval.ScopeAlways:
		return "always"
	}
	return scope
}

func ago(now, t time.Time) string {
	d := now.Sub(t).Round(time.Second)
	if d < time.Second {
		return "just now"
	}
	return d.String() + " ago"
}
