package approval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cordon-sandbox/cordon/internal/approval/internal/state"
	"github.com/cordon-sandbox/cordon/policy"
)

// SessionGrantLifetime is how long a "this session" grant lasts at most.
// A session has no end cordon could see (the harness just stops setting
// CORDON_SESSION), so a grant also ends after this long.
const SessionGrantLifetime = 24 * time.Hour

// Grants remembers allow answers that reach beyond one run: "session"
// grants in cordon's state directory, "always" grants as command rules in
// the user's own policy file. It is safe for concurrent use by several
// cordon processes (file locks) and goroutines.
type Grants struct {
	stateDir   string
	policyFile string
	now        func() time.Time
	// checkPolicy validates the user's policy file as it would be after
	// an "always" grant is appended; the file is written only if it passes.
	checkPolicy func(path string, data []byte) error
}

// NewGrants returns the grant store of the user whose home is home: session
// grants under the state directory ($XDG_STATE_HOME/cordon or
// ~/.local/state/cordon), always grants in the user's policy file
// ($XDG_CONFIG_HOME/cordon/policy.toml or ~/.config/cordon/policy.toml).
func NewGrants(home string) *Grants {
	return &Grants{
		stateDir:   state.Dir(home),
		policyFile: policy.DefaultUserFile(home),
		now:        time.Now,
		checkPolicy: func(path string, data []byte) error {
			_, err := policy.ParseFile(policy.LayerUser, path, data)
			return err
		},
	}
}

// Lookup returns the grant that allows r, if one does: a session grant for
// r's session id and workspace, or an always grant (a rule cordon wrote
// into the user's policy file) for r's exact argument vector. The answer's
// Channel is ChannelGrant and its Reason says which grant applied. A grant
// store that cannot be read grants nothing.
func (g *Grants) Lookup(r Request) (Answer, bool) {
	if r.Session != "" {
		if sg, ok := g.lookupSession(r); ok {
			return Answer{Decision: Allow, Scope: ScopeSession, Channel: ChannelGrant, Approver: sg.Approver,
				Reason: fmt.Sprintf("allowed for this session by %s (%s) at %s", sg.Approver, sg.Channel, sg.Granted.UTC().Format(time.RFC3339))}, true
		}
	}
	if r.kind() == KindCommand && ruleCanName(r.Argv) {
		if name, ok := g.lookupAlways(r.Argv); ok {
			return Answer{Decision: Allow, Scope: ScopeAlways, Channel: ChannelGrant,
				Reason: fmt.Sprintf("allowed always by rule %q in %s", name, g.policyFile)}, true
		}
	}
	return Answer{}, false
}

// Remember stores a's grant for r when a allows r beyond this once: a
// session grant, or an always grant appended to the user's policy file. A
// deny, a once, and an answer that came from a grant are not stored.
func (g *Grants) Remember(r Request, a Answer) error {
	if !a.Allowed() || a.Channel == ChannelGrant {
		return nil
	}
	switch a.Scope {
	case "", ScopeOnce:
		return nil
	case ScopeSession:
		if r.Session == "" {
			return fmt.Errorf("cannot remember a session grant: %s is not set", SessionEnv)
		}
		return g.rememberSession(r, a)
	case ScopeAlways:
		if r.kind() != KindCommand || !ruleCanName(r.Argv) {
			return errors.New("cannot remember an always grant: only a command whose argument vector a policy rule can name exactly can be allowed always")
		}
		return g.rememberAlways(r, a)
	}
	return fmt.Errorf("cannot remember a grant with scope %q", a.Scope)
}

// sessionFile is the on-disk form of one session's grants.
type sessionFile struct {
	Version int            `json:"version"`
	Session string         `json:"session"`
	Grants  []sessionGrant `json:"grants"`
}

type sessionGrant struct {
	// Key identifies the action: a hash of its kind, workspace and
	// argument vector (or text).
	Key       string    `json:"key"`
	Kind      string    `json:"kind"`
	Command   string    `json:"command"`
	Workspace string    `json:"workspace"`
	Approver  string    `json:"approver"`
	Channel   string    `json:"channel"`
	Granted   time.Time `json:"granted"`
}

func (g *Grants) grantsDir() string { return filepath.Join(g.stateDir, "grants") }

func (g *Grants) sessionPath(session string) string {
	sum := sha256.Sum256([]byte(session))
	return filepath.Join(g.grantsDir(), "session-"+hex.EncodeToString(sum[:16])+".json")
}

func (g *Grants) lockPath() string { return filepath.Join(g.grantsDir(), "grants.lock") }

// grantKey identifies the action r asks about, within a session: the same
// command in another workspace is another action.
func grantKey(r Request) string {
	id := []any{r.kind(), r.Workspace}
	if len(r.Argv) > 0 {
		id = append(id, r.Argv)
	} else {
		id = append(id, r.Command)
	}
	b, _ := json.Marshal(id)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (g *Grants) lookupSession(r Request) (sessionGrant, bool) {
	lock, err := state.LockShared(context.Background(), g.lockPath())
	if err != nil {
		return sessionGrant{}, false
	}
	defer lock.Unlock()
	sf, err := g.readSession(r.Session)
	if err != nil {
		return sessionGrant{}, false
	}
	key := grantKey(r)
	for _, sg := range sf.Grants {
		if sg.Key == key && g.live(sg) {
			return sg, true
		}
	}
	return sessionGrant{}, false
}

func (g *Grants) live(sg sessionGrant) bool {
	age := g.now().Sub(sg.Granted)
	return age >= 0 && age < SessionGrantLifetime
}

func (g *Grants) readSession(session string) (sessionFile, error) {
	data, err := state.ReadPrivateFile(g.sessionPath(session))
	if err != nil {
		return sessionFile{}, err
	}
	var sf sessionFile
	if err := json.Unmarshal(data, &sf); err != nil {
		return sessionFile{}, fmt.Errorf("%s: %w", g.sessionPath(session), err)
	}
	if sf.Session != session {
		return sessionFile{}, fmt.Errorf("%s holds another session's grants", g.sessionPath(session))
	}
	return sf, nil
}

func (g *Grants) rememberSession(r Request, a Answer) error {
	if err := outsideWorkspace(g.stateDir, r); err != nil {
		return fmt.Errorf("session grants: %w", err)
	}
	if err := state.MkdirPrivate(g.grantsDir()); err != nil {
		return fmt.Errorf("session grants: %w", err)
	}
	lock, err := state.LockExclusive(context.Background(), g.lockPath())
	if err != nil {
		return fmt.Errorf("session grants: %w", err)
	}
	defer lock.Unlock()
	sf, err := g.readSession(r.Session)
	if err != nil && !os.IsNotExist(err) {
		// A damaged file is replaced: it could only grant, and what it
		// granted is lost, which asks again (never allows more).
		sf = sessionFile{}
	}
	sf.Version, sf.Session = 1, r.Session
	key := grantKey(r)
	sf.Grants = slices.DeleteFunc(sf.Grants, func(sg sessionGrant) bool { return sg.Key == key || !g.live(sg) })
	sf.Grants = append(sf.Grants, sessionGrant{Key: key, Kind: r.kind(), Command: r.shownCommand(), Workspace: r.Workspace,
		Approver: a.Approver, Channel: a.Channel, Granted: g.now().UTC()})
	data, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return err
	}
	if err := state.WriteFileAtomic(g.sessionPath(r.Session), append(data, '\n')); err != nil {
		return fmt.Errorf("session grants: %w", err)
	}
	g.pruneSessions()
	return nil
}

// pruneSessions removes session files nobody has added to for longer than
// a grant lives: every grant in them has ended. Best effort.
func (g *Grants) pruneSessions() {
	entries, err := os.ReadDir(g.grantsDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "session-") {
			continue
		}
		if info, err := e.Info(); err == nil && g.now().Sub(info.ModTime()) > SessionGrantLifetime {
			os.Remove(filepath.Join(g.grantsDir(), e.Name()))
		}
	}
}

// outsideWorkspace refuses a grant store that lies inside the request's
// workspace or working directory: a sandboxed command could write it there.
func outsideWorkspace(path string, r Request) error {
	real := resolveExisting(path)
	for _, root := range []string{r.Workspace, r.Cwd} {
		if root == "" {
			continue
		}
		rootReal := resolveExisting(root)
		if within(real, rootReal) {
			return fmt.Errorf("%s lies inside %s, which sandboxed commands can write; grants are never stored there (check HOME, XDG_STATE_HOME and XDG_CONFIG_HOME)", path, root)
		}
	}
	return nil
}

// resolveExisting resolves symbolic links in the longest existing prefix
// of path and appends the rest.
func resolveExisting(path string) string {
	path = filepath.Clean(path)
	rest := ""
	for p := path; ; p = filepath.Dir(p) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(real, rest)
		}
		if filepath.Dir(p) == p {
			return path
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

func within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
