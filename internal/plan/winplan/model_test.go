package winplan

// End-to-end checks of cordon's plans against the access-check model
// (accessmodel): a fixture machine is built in the model, cordon's real
// Build and Reconcile stamp it through an FS and Writer that act as the
// user's own token would, the sandbox token is derived from the real
// TokenSpec, and then every probe (an operation on a path) is run as the
// sandbox and as the user and compared with what cordon promises.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	am "github.com/cordon-sandbox/cordon/internal/plan/winplan/accessmodel"
)

const (
	mUser  am.SID = "S-1-5-21-111-222-333-1001"
	mLogon am.SID = "S-1-5-5-0-77777"

	mProfile = `C:\Users\me`
	mState   = `C:\Users\me\AppData\Local\cordon\windows-sandbox`
	mWS      = `C:\Users\me\src\app`
)

func fileACE(t am.AceType, f am.AceFlags, m am.Mask, s am.SID) am.ACE {
	return am.ACE{Type: t, Flags: f, Mask: m, SID: s}
}

const oici = am.ObjectInherit | am.ContainerInherit

// modify is the "Modify" right set (read, write, execute, DELETE; no
// FILE_DELETE_CHILD, no WRITE_DAC).
const modify = am.Mask(0x1301BF)

// machine builds the fixture: the system drive with Windows' default root
// DACL, a profile with the usual protected DACL (SYSTEM, Administrators and
// the user Full Control), a workspace in the profile with a git repository,
// a workspace on C:\src (where the user holds Modify through Authenticated
// Users), a second volume D: with the non-system default root DACL, a remote
// share, an Everyone-writable tools directory, and the user's secrets.
func machine(t *testing.T) *am.FS {
	t.Helper()
	fs := am.New(am.Administrators)
	fs.AddVolume("C:", false, false,
		fileACE(am.Allowed, oici, am.FileAllAccess, am.Administrators),
		fileACE(am.Allowed, oici, am.FileAllAccess, am.LocalSystem),
		fileACE(am.Allowed, oici, 0x1200A9, am.Users),
		fileACE(am.Allowed, oici|am.InheritOnly, modify, am.AuthenticatedUsers),
		fileACE(am.Allowed, 0, am.FileAppendData, am.AuthenticatedUsers),
	)
	fs.AddVolume("D:", false, false,
		fileACE(am.Allowed, oici, am.FileAllAccess, am.Administrators),
		fileACE(am.Allowed, oici, am.FileAllAccess, am.LocalSystem),
		fileACE(am.Allowed, oici, modify, am.AuthenticatedUsers),
		fileACE(am.Allowed, oici, 0x1200A9, am.Users),
		fileACE(am.Allowed, oici|am.InheritOnly, am.FileAllAccess, am.CreatorOwner),
	)
	fs.AddVolume(`\\srv\share`, true, false, fileACE(am.Allowed, oici, am.FileAllAccess, mUser))
	mustM(t, fs.Mkdir(`C:\Windows\System32`))
	mustM(t, fs.Mkdir(`C:\Users`))
	mustM(t, fs.Mkdir(`C:\tools\shared`, fileACE(am.Allowed, oici, am.FileAllAccess, am.Everyone)))
	mustM(t, fs.Mkdir(mProfile))
	sd, err := fs.GetSD(mProfile, true)
	mustM(t, err)
	sd.Owner, sd.Protected = mUser, true
	sd.DACL = []am.ACE{
		fileACE(am.Allowed, oici, am.FileAllAccess, am.LocalSystem),
		fileACE(am.Allowed, oici, am.FileAllAccess, am.Administrators),
		fileACE(am.Allowed, oici, am.FileAllAccess, mUser),
	}
	mustM(t, fs.PutSD(mProfile, sd, true))
	fs.Owner = mUser
	for _, d := range []string{mState, mProfile + `\AppData\Local\Temp`, mWS + `\.git\hooks`, mWS + `\src`, mProfile + `\.ssh`, mProfile + `\Documents`, `C:\src\app2\.git\hooks`, `D:\work\app3\.git\hooks`, `\\srv\share\proj`} {
		mustM(t, fs.Mkdir(d))
	}
	for _, f := range []string{
		mWS + `\.git\config`, mWS + `\.git\HEAD`, mWS + `\.git\hooks\pre-commit.sample`, mWS + `\main.go`, mWS + `\src\lib.go`,
		mProfile + `\.ssh\id_ed25519`, mProfile + `\Documents\thesis.docx`, mState + `\ledger.json`, mState + `\capsids.json`,
		`C:\src\app2\.git\config`, `C:\src\app2\main.go`, `D:\work\app3\.git\config`, `D:\work\app3\main.go`,
	} {
		mustM(t, fs.WriteFile(f))
	}
	mustM(t, fs.WriteFile(`\\srv\share\doc`))
	temp, err := TempRootFor(mState, mWS)
	mustM(t, err)
	mustM(t, fs.Mkdir(temp))
	mustM(t, fs.ShortName(mWS+`\.git`, "GIT~1"))
	return fs
}

func mustM(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// modelFS is winplan's FS and Writer over the model, acting with the user's
// token: cordon runs as the user, so it can only change what the user may.
type modelFS struct {
	fs        *am.FS
	user      *am.Token
	nul       DACL
	aceWrites int
}

var (
	_ FS     = (*modelFS)(nil)
	_ Writer = (*modelFS)(nil)
)

func (m *modelFS) Lstat(p string) (FileInfo, error) {
	info, err := m.fs.Stat(p, false)
	if err != nil {
		return FileInfo{}, err
	}
	return FileInfo{Exists: info.Exists, Dir: info.Dir, Reparse: info.Reparse, Size: int64(info.Writes), Links: info.Links}, nil
}

func (m *modelFS) Resolve(p string) (string, error) {
	info, err := m.fs.Stat(p, true)
	if err != nil {
		return "", err
	}
	if !info.Exists {
		return "", fmt.Errorf("%s: not found", p)
	}
	return info.Final, nil
}

func fromModel(sd *am.SD) DACL {
	if sd.NullDACL {
		return DACL{Null: true}
	}
	var d DACL
	for _, a := range sd.DACL {
		t := Allow
		if a.Type == am.Denied {
			t = Deny
		}
		d.ACEs = append(d.ACEs, ACE{Type: t, Flags: uint8(a.Flags), Mask: uint32(a.Mask), SID: SID(a.SID)})
	}
	return d
}

func toModel(a ACE) am.ACE {
	t := am.Allowed
	if a.Type == Deny {
		t = am.Denied
	}
	return am.ACE{Type: t, Flags: am.AceFlags(a.Flags), Mask: am.Mask(a.Mask), SID: am.SID(a.SID)}
}

func (m *modelFS) ReadDACL(obj Object) (DACL, error) {
	if obj.Kernel {
		return m.nul, nil
	}
	if err := m.fs.Open(m.user, obj.Path, am.ReadControl, true); err != nil {
		return DACL{}, err
	}
	sd, err := m.fs.GetSD(obj.Path, false)
	if err != nil {
		return DACL{}, err
	}
	d := fromModel(sd)
	d.Protected, d.Owner, d.Group = sd.Protected, SID(sd.Owner), SID(sd.Group)
	return d, nil
}

func (m *modelFS) ReadDir(p string, max int) ([]DirEntry, error) {
	es, err := m.fs.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var out []DirEntry
	for _, e := range es {
		out = append(out, DirEntry{Name: e.Name, Dir: e.Dir, Reparse: e.Reparse})
	}
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}

func (m *modelFS) Volume(p string) (VolumeInfo, error) {
	info, err := m.fs.Stat(p, true)
	if err != nil {
		return VolumeInfo{}, err
	}
	return VolumeInfo{Remote: info.Remote, ACLs: !info.NoACLs}, nil
}

// contents gives files of the model machine their contents, for ReadFile
// (the model keeps no data).
var contents map[string]string

func (m *modelFS) ReadFile(p string, max int) ([]byte, error) {
	info, err := m.fs.Stat(p, true)
	if err != nil || !info.Exists || info.Dir {
		return nil, fmt.Errorf("%s: not a file", p)
	}
	for k, v := range contents {
		if strings.EqualFold(k, p) {
			return []byte(v), nil
		}
	}
	return nil, nil
}

func (m *modelFS) Create(p string, dir bool, content []byte) error {
	c, err := CleanPath(p)
	if err != nil {
		return err
	}
	if err := m.checked(parentOf(c)); err != nil {
		return err
	}
	return m.fs.Create(m.user, p, dir)
}

// checked is the contract of winplan's Writer: the object is reached
// without following a reparse point at the end, its final path is the path
// given (no component was swapped for a link), and it is not itself a
// reparse point.
func (m *modelFS) checked(p string) error {
	info, err := m.fs.Stat(p, false)
	if err != nil {
		return err
	}
	if !info.Exists {
		return fmt.Errorf("%s: not found", p)
	}
	want, err := PathKey(p)
	if err != nil {
		return err
	}
	if got, _ := PathKey(info.Final); got != want {
		return fmt.Errorf("%s leads to %s: refused", p, info.Final)
	}
	if info.Reparse {
		return fmt.Errorf("%s is a reparse point: refused", p)
	}
	return nil
}

// WriteDACL writes d on exactly the object (NtSetSecurityObject on a handle
// opened without following a reparse point), with no propagation.
func (m *modelFS) WriteDACL(obj Object, d DACL) error {
	m.aceWrites++
	var aces []am.ACE
	for _, a := range d.ACEs {
		if a.Type == Other {
			return fmt.Errorf("the model keeps no ACEs of other types")
		}
		aces = append(aces, toModel(a))
	}
	if obj.Kernel {
		m.nul = fromModel(&am.SD{DACL: aces})
		return nil
	}
	if err := m.checked(obj.Path); err != nil {
		return err
	}
	if err := m.fs.Open(m.user, obj.Path, am.WriteDAC|am.ReadControl, true); err != nil {
		return err
	}
	sd, err := m.fs.GetSD(obj.Path, false)
	if err != nil {
		return err
	}
	sd.NullDACL, sd.Protected, sd.DACL = false, d.Protected, aces
	return m.fs.PutSD(obj.Path, sd, false)
}

func (m *modelFS) RemovePlaceholder(p string, dir bool, content []byte) (bool, error) {
	info, err := m.fs.Stat(p, false)
	if err != nil || !info.Exists || info.Reparse {
		return false, err
	}
	if dir {
		es, err := m.fs.ReadDir(p)
		if err != nil || len(es) > 0 {
			return false, err
		}
	} else if info.Writes > 0 {
		return false, nil
	}
	return true, m.fs.Delete(m.user, p)
}

// world is the fixture machine after cordon prepared one run.
type world struct {
	fs      *am.FS
	mfs     *modelFS
	user    am.Token
	sandbox am.Token
	plan    *Plan
	journal *memJournal
}

func modelInput() Input {
	temp, err := TempRootFor(mState, mWS)
	if err != nil {
		panic(err)
	}
	return Input{
		Workspace:  mWS,
		TempRoot:   temp,
		HostEnv:    []string{`SystemRoot=C:\Windows`, `TEMP=C:\Users\me\AppData\Local\Temp`},
		StateDir:   mState,
		ProfileDir: mProfile,
		ProtectedPaths: []ProtectedPath{
			{Path: mWS + `\.git\hooks`, Dir: true},
			{Path: mWS + `\.git\config`},
			{Path: mWS + `\.vscode`, Dir: true},
			{Path: mWS + `\.mcp.json`},
		},
		Env: []string{`PATH=C:\Windows\System32`},
	}
}

// prepare builds the machine, lets cordon plan and reconcile in, and derives
// the sandbox token from cordon's own token specification.
func prepare(t *testing.T, in Input, setup func(*am.FS)) *world {
	t.Helper()
	fs := machine(t)
	if setup != nil {
		setup(fs)
	}
	user := am.StandardUser(mUser, mLogon, true)
	w := &world{fs: fs, user: user, journal: &memJournal{}}
	w.mfs = &modelFS{fs: fs, user: &w.user,
		nul: DACL{ACEs: []ACE{{Type: Allow, Mask: GenericRead | GenericWrite, SID: Everyone}}}}
	if in.TempRoot != "" {
		mustM(t, fs.Mkdir(in.TempRoot)) // what the apply layer does before Build
	}
	p, err := Build(in, w.mfs, &fixedSIDs{}, Identity{User: SID(mUser), Logon: SID(mLogon)})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if _, err := Reconcile(w.mfs, w.mfs, w.journal, &p.ACL, fixedNow); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	w.plan = p
	w.sandbox = sandboxToken(t, user, p)
	return w
}

// instances numbers the runs' instance SIDs.
var instances int

// sandboxToken is what CreateRestrictedToken makes of the user's token with
// cordon's TokenSpec for plan.
func sandboxToken(t *testing.T, user am.Token, p *Plan) am.Token {
	t.Helper()
	instances++
	spec, err := NewTokenSpec(p.CapabilitySIDs(), SID(fmt.Sprintf("S-1-5-21-999-999-999-%d", instances)), p.LogonSID, SID(mUser))
	if err != nil {
		t.Fatal(err)
	}
	var restricting []am.SID
	for _, s := range spec.RestrictingSIDs {
		restricting = append(restricting, am.SID(s))
	}
	var disable []am.SID
	for _, s := range spec.DisableSIDs {
		disable = append(disable, am.SID(s))
	}
	tok := am.Restrict(user, spec.Flags, disable, restricting)
	tok.DefaultDACL = nil
	for _, a := range spec.DefaultDACL {
		tok.DefaultDACL = append(tok.DefaultDACL, toModel(a))
	}
	return tok
}

// outcome is what cordon promises for one probe.
type outcome int

const (
	allow outcome = iota
	deny
	// gap: the unelevated mode cannot deny this; the model must agree that
	// it is allowed (else the report understates the mode) and the plan's
	// facts must name the layer as not enforced.
	gap
)

func (o outcome) String() string {
	return [...]string{"allow", "deny", "known gap (allowed, reported)"}[o]
}

// probe is one operation on the fixture.
type probe struct {
	name    string
	op      func(w *world, t *am.Token) error
	sandbox outcome
	user    outcome
	// gapLayer is the fact layer that must say "not enforced" for a gap.
	gapLayer string
}

// run runs each probe on a fresh world made by mk, as the sandbox and as the
// user, and reports every broken promise.
func runProbes(t *testing.T, mk func(t *testing.T) *world, probes []probe) {
	t.Helper()
	for _, p := range probes {
		for _, who := range []string{"sandbox", "user"} {
			w := mk(t)
			tok, want := &w.sandbox, p.sandbox
			if who == "user" {
				tok, want = &w.user, p.user
			}
			err := p.op(w, tok)
			if err != nil && !errors.Is(err, am.ErrAccessDenied) && !errors.Is(err, am.ErrPrivilegeNotHeld) {
				t.Errorf("%s as %s: %v (not an access decision: the probe is broken)", p.name, who, err)
				continue
			}
			switch {
			case want == deny && err == nil:
				t.Errorf("%s as %s: allowed, cordon promises it is denied", p.name, who)
			case want != deny && err != nil:
				t.Errorf("%s as %s: denied (%v), want %s", p.name, who, err, want)
			}
			if want == gap {
				if f := factFor(w.plan, p.gapLayer); f.Status != NotEnforced {
					t.Errorf("%s as %s is a known gap, but the report says %q for %q", p.name, who, f.Status, p.gapLayer)
				}
			}
		}
	}
}

func factFor(p *Plan, layer string) Fact {
	for _, f := range p.Facts(nil, nil) {
		if f.Layer == layer {
			return f
		}
	}
	return Fact{Layer: layer, Status: "(no such fact)"}
}

func write(p string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.Write(t, p) }
}
func read(p string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.Read(t, p) }
}
func appendTo(p string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.Append(t, p) }
}
func setAttrs(p string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.SetAttributes(t, p) }
}
func writeEA(p string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.WriteEA(t, p) }
}
func create(p string, dir bool) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.Create(t, p, dir) }
}
func del(p string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.Delete(t, p) }
}
func rename(from, to string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.Rename(t, from, to, false) }
}
func replaceWith(from, to string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.Rename(t, from, to, true) }
}
func setDACL(p string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error {
		return w.fs.SetDACL(t, p, []am.ACE{fileACE(am.Allowed, oici, am.FileAllAccess, am.Everyone)})
	}
}
func takeOwnership(p string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.SetOwner(t, p, t.User) }
}
func hardLink(existing, newPath string) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error { return w.fs.HardLink(t, existing, newPath) }
}

// then runs two operations; both must succeed for the probe to succeed.
func then(a, b func(*world, *am.Token) error) func(*world, *am.Token) error {
	return func(w *world, t *am.Token) error {
		if err := a(w, t); err != nil {
			return err
		}
		return b(w, t)
	}
}

// TestModelWorkspaceWrite runs the probes of a workspace-write run with the
// default protected paths.
func TestModelWorkspaceWrite(t *testing.T) {
	mk := func(t *testing.T) *world { return prepare(t, modelInput(), nil) }
	probes := []probe{
		// P1: the workspace is writable.
		{name: "write a workspace file", op: write(mWS + `\main.go`)},
		{name: "append to a workspace file", op: appendTo(mWS + `\main.go`)},
		{name: "set attributes of a workspace file", op: setAttrs(mWS + `\main.go`)},
		{name: "create a workspace file", op: create(mWS+`\new.go`, false)},
		{name: "create a workspace directory", op: create(mWS+`\pkg`, true)},
		{name: "delete a workspace file", op: del(mWS + `\src\lib.go`)},
		{name: "rename a workspace file", op: rename(mWS+`\main.go`, mWS+`\src\main.go`)},
		{name: "replace a workspace file (atomic save)", op: then(create(mWS+`\main.go.tmp`, false), replaceWith(mWS+`\main.go.tmp`, mWS+`\main.go`))},
		{name: "write .git\\HEAD (git itself works)", op: write(mWS + `\.git\HEAD`)},
		{name: "create .git\\index.lock", op: create(mWS+`\.git\index.lock`, false)},
		// P2: but its ACLs and owners are not the sandbox's to change.
		{name: "WRITE_DAC on a workspace file", op: setDACL(mWS + `\main.go`), sandbox: deny},
		{name: "WRITE_DAC on the workspace", op: setDACL(mWS), sandbox: deny},
		{name: "take ownership of a workspace file", op: takeOwnership(mWS + `\main.go`), sandbox: deny},
		// P3: protected paths are not writable.
		{name: "read .git\\config", op: read(mWS + `\.git\config`)},
		{name: "write .git\\config", op: write(mWS + `\.git\config`), sandbox: deny},
		{name: "append to .git\\config", op: appendTo(mWS + `\.git\config`), sandbox: deny},
		{name: "set attributes of .git\\config", op: setAttrs(mWS + `\.git\config`), sandbox: deny},
		{name: "write EAs of .git\\config", op: writeEA(mWS + `\.git\config`), sandbox: deny},
		{name: "WRITE_DAC on .git\\config", op: setDACL(mWS + `\.git\config`), sandbox: deny},
		{name: "create a hook", op: create(mWS+`\.git\hooks\pre-commit`, false), sandbox: deny},
		{name: "create a directory in hooks", op: create(mWS+`\.git\hooks\sub`, true), sandbox: deny},
		{name: "write a hook sample", op: write(mWS + `\.git\hooks\pre-commit.sample`), sandbox: deny},
		{name: "write the placeholder .mcp.json", op: write(mWS + `\.mcp.json`), sandbox: deny},
		{name: "create a file in the placeholder .vscode", op: create(mWS+`\.vscode\tasks.json`, false), sandbox: deny},
		// A1: other spellings reach the same objects.
		{name: "write .git\\config through its stream", op: write(mWS + `\.git\config:x`), sandbox: deny},
		{name: "write .git\\config through the 8.3 name", op: write(mWS + `\GIT~1\config`), sandbox: deny},
		{name: "write .GIT\\CONFIG.", op: write(mWS + `\.GIT\CONFIG.`), sandbox: deny},
		{name: "write .git.\\config", op: write(mWS + `\.git.\config`), sandbox: deny},
		// O1: outside the roots, nothing is writable, everything readable.
		{name: "read an outside file", op: read(mProfile + `\Documents\thesis.docx`)},
		{name: "read a secret (deny-read needs the elevated mode)", op: read(mProfile + `\.ssh\id_ed25519`)},
		{name: "write an outside file", op: write(mProfile + `\Documents\thesis.docx`), sandbox: deny},
		{name: "create an outside file", op: create(mProfile+`\Documents\new.txt`, false), sandbox: deny},
		{name: "WRITE_DAC on an outside file", op: setDACL(mProfile + `\Documents\thesis.docx`), sandbox: deny},
		{name: "write cordon's ledger", op: write(mState + `\ledger.json`), sandbox: deny},
		{name: "create a file in cordon's state directory", op: create(mState+`\capsids.json.tmp`, false), sandbox: deny},
		{name: "write into an Everyone-writable directory", op: create(`C:\tools\shared\x.exe`, false), sandbox: gap, gapLayer: "Everyone-writable directories"},
		// L1: a hard link to an outside file cannot be made.
		{name: "hard-link an outside file into the workspace", op: hardLink(mProfile+`\Documents\thesis.docx`, mWS+`\thesis.docx`), sandbox: deny},
	}
	runProbes(t, mk, probes)
}

// TestModelProtectedPathsSurviveDeletes: review C1. A WRITE_RESTRICTED
// token's request for FILE_DELETE_CHILD is decided by the normal pass, and
// the user holds Full Control on their profile (and, through CREATOR OWNER,
// on their own directories on a non-system volume): deny ACEs for the
// capability SID alone cannot stop a protected path from being deleted or
// renamed away through its parent, and then recreated.
func TestModelProtectedPathsSurviveDeletes(t *testing.T) {
	workspaces := []struct {
		name, ws string
	}{
		{"profile workspace", mWS},
		{"C:\\src workspace (Modify through Authenticated Users)", `C:\src\app2`},
		{"D: workspace (Full Control through CREATOR OWNER)", `D:\work\app3`},
	}
	for _, c := range workspaces {
		t.Run(c.name, func(t *testing.T) {
			ws := c.ws
			in := modelInput()
			in.Workspace = ws
			in.ProtectedPaths = []ProtectedPath{
				{Path: ws + `\.git\hooks`, Dir: true},
				{Path: ws + `\.git\config`},
				{Path: ws + `\.vscode`, Dir: true},
				{Path: ws + `\.mcp.json`},
			}
			mk := func(t *testing.T) *world {
				w := prepare(t, in, func(fs *am.FS) {
					mustM(t, fs.WriteFile(ws+`\.git\hooks\pre-commit.sample`))
				})
				return w
			}
			probes := []probe{
				{name: "delete .git\\config", op: del(ws + `\.git\config`), sandbox: deny},
				{name: "delete .git\\config and write a forged one", op: then(del(ws+`\.git\config`), create(ws+`\.git\config`, false)), sandbox: deny},
				{name: "rename .git\\config away", op: rename(ws+`\.git\config`, ws+`\.git\config.old`), sandbox: deny},
				{name: "replace .git\\config by a rename", op: then(create(ws+`\forged`, false), replaceWith(ws+`\forged`, ws+`\.git\config`)), sandbox: deny},
				{name: "move .git\\config into the workspace", op: rename(ws+`\.git\config`, ws+`\config`), sandbox: deny},
				{name: "delete a hook sample", op: del(ws + `\.git\hooks\pre-commit.sample`), sandbox: deny},
				{name: "rename .git\\hooks away", op: rename(ws+`\.git\hooks`, ws+`\.git\hooks.old`), sandbox: deny},
				{name: "rename .git away", op: rename(ws+`\.git`, ws+`\.git.old`), sandbox: deny},
				{name: "delete the placeholder .mcp.json", op: del(ws + `\.mcp.json`), sandbox: deny},
				{name: "rename the placeholder .vscode away", op: rename(ws+`\.vscode`, ws+`\vscode.old`), sandbox: deny},
				{name: "delete the placeholder .vscode", op: del(ws + `\.vscode`), sandbox: deny},
				// What the sandbox must still be able to do.
				{name: "delete a workspace file", op: del(ws + `\main.go`)},
				{name: "replace a workspace file", op: then(create(ws+`\main.go.tmp`, false), replaceWith(ws+`\main.go.tmp`, ws+`\main.go`))},
				{name: "create and delete a file in .git", op: then(create(ws+`\.git\index.lock`, false), del(ws+`\.git\index.lock`))},
				{name: "rename a file within .git", op: then(create(ws+`\.git\index.lock`, false), replaceWith(ws+`\.git\index.lock`, ws+`\.git\index`))},
			}
			runProbes(t, mk, probes)
		})
	}
}

// TestModelCleanupRestoresEveryDescriptor: review invariant I4. After a run
// and `cordon windows cleanup`, every object's descriptor on the machine is
// what it was before cordon first ran, the user's own ACEs included; and a
// second reconcile on the stamped machine writes nothing (I3).
func TestModelCleanupRestoresEveryDescriptor(t *testing.T) {
	fs := machine(t)
	before := fs.Snapshot()
	user := am.StandardUser(mUser, mLogon, true)
	m := &modelFS{fs: fs, user: &user, nul: DACL{ACEs: []ACE{{Type: Allow, Mask: GenericRead, SID: Everyone}}}}
	nulBefore := m.nul
	j := &memJournal{}
	in := modelInput()
	in.WritableRoots = []string{`D:\work`}
	in.ProtectedPaths = append(in.ProtectedPaths, ProtectedPath{Path: `D:\work\app3\.git\hooks`, Dir: true})
	id := Identity{User: SID(mUser), Logon: SID(mLogon)}
	sids := &fixedSIDs{}
	p, err := Build(in, m, sids, id)
	mustM(t, err)
	if _, err := Reconcile(m, m, j, &p.ACL, fixedNow); err != nil {
		t.Fatal(err)
	}
	writes := m.aceWrites
	p2, err := Build(in, m, sids, id)
	mustM(t, err)
	st, err := Reconcile(m, m, j, &p2.ACL, fixedNow)
	if err != nil || m.aceWrites != writes || st.ACEsAdded != 0 || len(st.Created) != 0 {
		t.Fatalf("second reconcile: %+v, %v, %d DACL writes", st, err, m.aceWrites-writes)
	}
	res, err := Cleanup(m, m, j.ledger())
	if err != nil || len(res.Remaining.ACEs) != 0 {
		t.Fatalf("Cleanup: %+v, %v", res, err)
	}
	after := fs.Snapshot()
	for path, sd := range before {
		if after[path] != sd {
			t.Errorf("%s changed:\n before %s\n after  %s", path, sd, after[path])
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			t.Errorf("%s is left behind", path)
		}
	}
	if !slicesEqualACE(m.nul.ACEs, nulBefore.ACEs) {
		t.Errorf("the null device's DACL changed: %v, was %v", m.nul.ACEs, nulBefore.ACEs)
	}
}

func slicesEqualACE(a, b []ACE) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestModelOutsideDeletes: review C2. The FILE_DELETE_CHILD rule also lets
// the command delete, and move into a writable root, files the user may
// delete anywhere. cordon cannot stop that in the unelevated mode (it would
// have to stamp every directory of the user) and says so; it guards its own
// state, the policy files outside the roots and the deny-read paths.
func TestModelOutsideDeletes(t *testing.T) {
	const policyFile = mProfile + `\AppData\Roaming\cordon\policy.toml`
	in := modelInput()
	in.ProtectedPaths = append(in.ProtectedPaths, ProtectedPath{Path: policyFile})
	in.DenyRead = []string{mProfile + `\.ssh`}
	in.AcceptUnenforcedDenyRead = true
	mk := func(t *testing.T) *world {
		return prepare(t, in, func(fs *am.FS) { mustM(t, fs.WriteFile(policyFile)) })
	}
	const outside = "deletes and renames outside writable roots"
	probes := []probe{
		{name: "delete cordon's ledger", op: del(mState + `\ledger.json`), sandbox: deny},
		{name: "delete cordon's SID store", op: del(mState + `\capsids.json`), sandbox: deny},
		{name: "move cordon's ledger into the workspace", op: rename(mState+`\ledger.json`, mWS+`\ledger.json`), sandbox: deny},
		{name: "move cordon's state directory into the workspace", op: rename(mState, mWS+`\state`), sandbox: deny},
		{name: "move the directory above it into the workspace", op: rename(mProfile+`\AppData\Local\cordon`, mWS+`\cordon`), sandbox: deny},
		{name: "move AppData\\Local into the workspace", op: rename(mProfile+`\AppData\Local`, mWS+`\Local`), sandbox: deny},
		{name: "delete the user's policy file", op: del(policyFile), sandbox: deny},
		{name: "move the user's policy file into the workspace", op: rename(policyFile, mWS+`\policy.toml`), sandbox: deny},
		{name: "delete a secret", op: del(mProfile + `\.ssh\id_ed25519`), sandbox: deny},
		{name: "move the .ssh directory into the workspace", op: rename(mProfile+`\.ssh`, mWS+`\ssh`), sandbox: deny},
		// What stays open, and is reported.
		{name: "delete a document", op: del(mProfile + `\Documents\thesis.docx`), sandbox: gap, gapLayer: outside},
		{name: "move a document into the workspace", op: rename(mProfile+`\Documents\thesis.docx`, mWS+`\thesis.docx`), sandbox: gap, gapLayer: outside},
		// The user's own programs, and cordon, keep working there.
		{name: "replace the ledger (cordon's atomic save)", op: then(create(mState+`\ledger.json.tmp`, false), replaceWith(mState+`\ledger.json.tmp`, mState+`\ledger.json`)), sandbox: deny},
		{name: "delete a file in AppData\\Local", op: then(create(mProfile+`\AppData\Local\x.tmp`, false), del(mProfile+`\AppData\Local\x.tmp`)), sandbox: deny},
	}
	runProbes(t, mk, probes)
}

// TestModelRemoteVolumes: review H3. On a share, the server checks the
// user's network logon, which carries none of the sandbox token's
// restricting SIDs: ACEs for capability SIDs bind nothing there, so such a
// writable root would be writable far beyond the plan. cordon refuses
// roots on remote volumes (UNC paths, mapped drives, links to either) and
// on volumes without ACLs, and reports that every share stays writable.
func TestModelRemoteVolumes(t *testing.T) {
	setup := func(fs *am.FS) {
		fs.AddVolume("H:", true, false, fileACE(am.Allowed, oici, am.FileAllAccess, mUser))
		fs.AddVolume("F:", false, true)
		mustM(t, fs.Mkdir(`H:\proj`))
		mustM(t, fs.Mkdir(`F:\proj`))
		mustM(t, fs.MakeLink(mProfile+`\src\onshare`, `\\srv\share\proj`, false))
	}
	for _, root := range []string{`\\srv\share\proj`, `\\?\UNC\srv\share\proj`, `H:\proj`, mProfile + `\src\onshare`, `F:\proj`} {
		t.Run(root, func(t *testing.T) {
			fs := machine(t)
			setup(fs)
			user := am.StandardUser(mUser, mLogon, true)
			m := &modelFS{fs: fs, user: &user}
			in := modelInput()
			in.WritableRoots = []string{root}
			_, err := Build(in, m, &fixedSIDs{}, Identity{User: SID(mUser), Logon: SID(mLogon)})
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("Build with the root %s: %v, want a refusal", root, err)
			}
		})
	}
	mk := func(t *testing.T) *world { return prepare(t, modelInput(), setup) }
	runProbes(t, mk, []probe{
		{name: "write a file on a share", op: write(`\\srv\share\proj\..\doc`), sandbox: gap, gapLayer: LayerNetworkFiles},
	})
}

// TestModelConcurrentSandboxes: review H5. Two sandboxes of one logon
// session, on different workspaces, must not be able to write into each
// other's processes (which would let one act with the other's capability
// SIDs), while each may still work with its own processes and the user's
// tools with both.
func TestModelConcurrentSandboxes(t *testing.T) {
	fs := machine(t)
	user := am.StandardUser(mUser, mLogon, true)
	m := &modelFS{fs: fs, user: &user}
	sids := &fixedSIDs{}
	id := Identity{User: SID(mUser), Logon: SID(mLogon)}
	inB := modelInput()
	inB.Workspace, inB.ProtectedPaths = `C:\src\app2`, nil
	pa, err := Build(modelInput(), m, sids, id)
	mustM(t, err)
	pb, err := Build(inB, m, sids, id)
	mustM(t, err)
	a, b := sandboxToken(t, user, pa), sandboxToken(t, user, pb)
	procA := am.NewProcess(&a)
	inject := am.ProcessVMWrite | am.ProcessCreateThread | am.ProcessVMOperation
	for _, c := range []struct {
		name string
		tok  *am.Token
		want am.Mask
		ok   bool
	}{
		{"sandbox B writes A's memory and starts threads in it", &b, inject, false},
		{"sandbox B duplicates A's handles", &b, am.ProcessDupHandle, false},
		{"sandbox B changes A's process information", &b, am.ProcessSetInformation, false},
		{"sandbox A's own processes", &a, inject | am.ProcessDupHandle, true},
		{"the user's own tools (and cordon)", &user, am.ProcessAllAccess, true},
	} {
		err := procA.Open(c.tok, c.want)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want allowed %t", c.name, err, c.ok)
		}
	}
}

// TestModelProcessesOfTheUser: review H6. What the sandbox can do to the
// user's own (unsandboxed, non-elevated) processes, with the default DACL
// Windows gives a standard token.
func TestModelProcessesOfTheUser(t *testing.T) {
	mk := func(t *testing.T) *world { return prepare(t, modelInput(), nil) }
	open := func(m am.Mask) func(*world, *am.Token) error {
		return func(w *world, t *am.Token) error { return am.NewProcess(&w.user).Open(t, m) }
	}
	runProbes(t, mk, []probe{
		{name: "read the memory of the user's process", op: open(am.ProcessVMRead | am.ProcessQueryInformation), sandbox: gap, gapLayer: LayerProcesses},
		{name: "end the user's process", op: open(am.ProcessTerminate), sandbox: gap, gapLayer: LayerProcesses},
		{name: "write the user's process's memory", op: open(am.ProcessVMWrite | am.ProcessVMOperation), sandbox: deny},
		{name: "start a thread in the user's process", op: open(am.ProcessCreateThread), sandbox: deny},
		{name: "duplicate the user's process's handles", op: open(am.ProcessDupHandle), sandbox: deny},
	})
	// An elevated process of the user is shielded by its integrity level.
	w := mk(t)
	admin := w.user
	admin.Integrity = am.HighIntegrity
	if err := am.NewProcess(&admin).Open(&w.sandbox, am.ProcessVMRead); err == nil {
		t.Error("the sandbox reads an elevated process's memory")
	}
}

// TestModelWritableOutside: review M8. The restricted pass grants writes
// through any restricting SID, so the scan looks for directories writable
// through the logon SID as well as Everyone; what the user cannot change is
// reported, not a reason to refuse the run.
func TestModelWritableOutside(t *testing.T) {
	setup := func(fs *am.FS) {
		mustM(t, fs.Mkdir(`C:\tools\session`, fileACE(am.Allowed, oici, am.FileAllAccess, mLogon)))
		mustM(t, fs.Mkdir(`C:\tools\locked`))
		mustM(t, fs.PutSD(`C:\tools\locked`, &am.SD{Owner: am.LocalSystem, Protected: true, DACL: []am.ACE{
			fileACE(am.Allowed, oici, modify, am.Everyone), fileACE(am.Allowed, oici, am.FileAllAccess, am.LocalSystem),
		}}, true))
	}
	mk := func(t *testing.T) *world {
		fs := machine(t)
		setup(fs)
		user := am.StandardUser(mUser, mLogon, true)
		w := &world{fs: fs, user: user, journal: &memJournal{}}
		w.mfs = &modelFS{fs: fs, user: &w.user}
		p, err := Build(modelInput(), w.mfs, &fixedSIDs{}, Identity{User: SID(mUser), Logon: SID(mLogon)})
		mustM(t, err)
		scan := Scan(w.mfs, []string{`C:\tools`}, []string{mWS}, p.ScanSIDs(), DefaultScanLimits, (&fakeClock{step: time.Millisecond}).now)
		want := []string{`C:\tools\locked`, `C:\tools\session`, `C:\tools\shared`}
		if !slices.Equal(scan.Writable, want) {
			t.Fatalf("scan found %v, want %v", scan.Writable, want)
		}
		p.AddWorldWritableDenies(scan.Writable)
		st, err := Reconcile(w.mfs, w.mfs, w.journal, &p.ACL, fixedNow)
		if err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		w.plan, w.sandbox = p, sandboxToken(t, user, p)
		f := p.Facts(&scan, &st)[len(p.Facts(&scan, &st))-1]
		if f.Status != NotEnforced || !strings.Contains(f.Detail, `C:\tools\locked`) || !strings.Contains(f.Detail, `added on C:\tools\session, C:\tools\shared`) {
			t.Fatalf("scan fact = %+v", f)
		}
		return w
	}
	runProbes(t, mk, []probe{
		{name: "write into an Everyone-writable directory", op: create(`C:\tools\shared\x.exe`, false), sandbox: deny},
		{name: "write into a directory writable through the logon SID", op: create(`C:\tools\session\x.exe`, false), sandbox: deny},
		{name: "write into one the user may not fix", op: create(`C:\tools\locked\x.exe`, false), sandbox: gap, gapLayer: "Everyone-writable directories"},
	})
}

// TestModelMovedIntoProtectedDir: review M10. A file or directory moved on
// the same volume keeps its descriptor (KB310316): moved from the workspace
// into .git\hooks by the user, it still carries the inherited allow for the
// capability SID and none of the hooks directory's denies; a file with a
// protected DACL never inherits them. The next run must find and close
// both.
func TestModelMovedIntoProtectedDir(t *testing.T) {
	mk := func(t *testing.T) *world {
		w := prepare(t, modelInput(), func(fs *am.FS) {
			mustM(t, fs.WriteFile(mWS+`\evil.sh`))
			mustM(t, fs.WriteFile(mWS+`\tools\helper.sh`))
			mustM(t, fs.WriteFile(mProfile+`\Downloads\hook.sh`, fileACE(am.Allowed, 0, am.FileAllAccess, am.Everyone)))
		})
		// The user, outside the sandbox, moves things into .git\hooks.
		mustM(t, w.fs.Rename(&w.user, mWS+`\evil.sh`, mWS+`\.git\hooks\pre-commit`, false))
		mustM(t, w.fs.Rename(&w.user, mWS+`\tools`, mWS+`\.git\hooks\tools`, false))
		mustM(t, w.fs.Rename(&w.user, mProfile+`\Downloads\hook.sh`, mWS+`\.git\hooks\post-checkout`, false))
		sd, err := w.fs.GetSD(mWS+`\.git\hooks\post-checkout`, true)
		mustM(t, err)
		sd.Protected = true
		mustM(t, w.fs.PutSD(mWS+`\.git\hooks\post-checkout`, sd, true))
		// The next run.
		p, err := Build(modelInput(), w.mfs, &fixedSIDs{}, Identity{User: SID(mUser), Logon: SID(mLogon)})
		mustM(t, err)
		if _, err := Reconcile(w.mfs, w.mfs, w.journal, &p.ACL, fixedNow); err != nil {
			t.Fatal(err)
		}
		w.plan, w.sandbox = p, sandboxToken(t, w.user, p)
		return w
	}
	runProbes(t, mk, []probe{
		{name: "write a hook moved in with a stale descriptor", op: write(mWS + `\.git\hooks\pre-commit`), sandbox: deny},
		{name: "write a hook with a protected DACL granting Everyone", op: write(mWS + `\.git\hooks\post-checkout`), sandbox: deny},
		{name: "write a file in a directory moved in", op: write(mWS + `\.git\hooks\tools\helper.sh`), sandbox: deny},
		{name: "create a file in a directory moved in", op: create(mWS+`\.git\hooks\tools\x.sh`, false), sandbox: deny},
		{name: "delete a file in a directory moved in", op: del(mWS + `\.git\hooks\tools\helper.sh`), sandbox: deny},
		{name: "delete a hook moved in", op: del(mWS + `\.git\hooks\pre-commit`), sandbox: deny},
	})
}

// TestModelLinksInsideRoots: review M9 (L1-L3). cordon must write ACLs
// only on the objects it planned: not through a junction in a writable root
// into what it points at, not onto an outside file through a hard link in a
// root (both share one descriptor), and not through a placeholder replaced
// by a junction between planning and stamping. (Before cordon did its own
// propagation, this test ran with the model's propagation entering
// junctions, since whether SetNamedSecurityInfo's does is not documented.)
func TestModelLinksInsideRoots(t *testing.T) {
	docs := mProfile + `\Documents`
	setup := func(fs *am.FS) {
		mustM(t, fs.MakeLink(mWS+`\docs`, docs, false))
		mustM(t, fs.WriteFile(mProfile+`\notes.txt`))
		user := am.StandardUser(mUser, mLogon, true)
		mustM(t, fs.HardLink(&user, mProfile+`\notes.txt`, mWS+`\notes.txt`))
	}
	snapshotOf := func(fs *am.FS, under string) map[string]string {
		out := map[string]string{}
		for p, sd := range fs.Snapshot() {
			if within(p, under) {
				out[p] = sd
			}
		}
		return out
	}
	mk := func(t *testing.T) *world {
		fs := machine(t)
		setup(fs)
		before := snapshotOf(fs, mProfile+`\Documents`)
		notes, _ := fs.GetSD(mProfile+`\notes.txt`, true)
		user := am.StandardUser(mUser, mLogon, true)
		w := &world{fs: fs, user: user, journal: &memJournal{}}
		w.mfs = &modelFS{fs: fs, user: &w.user}
		p, err := Build(modelInput(), w.mfs, &fixedSIDs{}, Identity{User: SID(mUser), Logon: SID(mLogon)})
		mustM(t, err)
		if _, err := Reconcile(w.mfs, w.mfs, w.journal, &p.ACL, fixedNow); err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		if after := snapshotOf(fs, docs); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("stamping the workspace changed descriptors behind the junction %s\\docs", mWS)
		}
		if after, _ := fs.GetSD(mProfile+`\notes.txt`, true); fmt.Sprint(after) != fmt.Sprint(notes) {
			t.Errorf("stamping the workspace changed the descriptor of an outside file hard-linked into it:\n before %v\n after  %v", notes, after)
		}
		w.plan, w.sandbox = p, sandboxToken(t, user, p)
		return w
	}
	runProbes(t, mk, []probe{
		{name: "write an outside file through a junction in the workspace", op: write(mWS + `\docs\thesis.docx`), sandbox: deny},
		{name: "write it at its own path", op: write(docs + `\thesis.docx`), sandbox: deny},
		{name: "write an outside file through its hard link in the workspace", op: write(mWS + `\notes.txt`), sandbox: deny},
		{name: "write the hard-linked file at its own path", op: write(mProfile + `\notes.txt`), sandbox: deny},
		// Links found in a root keep their own ACL: the sandbox cannot
		// delete or retarget them (the user can).
		{name: "delete the junction (the link, not its target)", op: del(mWS + `\docs`), sandbox: deny},
	})

	// L3: a second run adds the protected path .idea, which does not exist;
	// between planning its placeholder and stamping it, the command of the
	// first run (still running, with the workspace's capability SID) makes
	// .idea a junction to the documents.
	w := prepare(t, modelInput(), nil)
	before := snapshotOf(w.fs, docs)
	in2 := modelInput()
	in2.ProtectedPaths = append(in2.ProtectedPaths, ProtectedPath{Path: mWS + `\.idea`, Dir: true})
	p, err := Build(in2, w.mfs, &fixedSIDs{}, Identity{User: SID(mUser), Logon: SID(mLogon)})
	mustM(t, err)
	mustM(t, w.fs.Junction(&w.sandbox, mWS+`\.idea`, docs))
	_, err = Reconcile(w.mfs, w.mfs, &memJournal{}, &p.ACL, fixedNow)
	if after := snapshotOf(w.fs, docs); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a placeholder swapped for a junction made cordon change %s (Reconcile: %v)", docs, err)
	}
	if err == nil {
		t.Error("Reconcile accepted a protected path that became a junction")
	}
}

// TestInheritanceMatchesModel: winplan's own inheritance (used by its
// propagation walk) gives the same ACEs as the model's, written
// independently from the same rules, for every combination of inheritance
// flags, generic and specific masks, creator SIDs, files and directories.
func TestInheritanceMatchesModel(t *testing.T) {
	const owner, group SID = "S-1-5-21-5-5-5-1001", "S-1-5-21-5-5-5-513"
	for flags := uint8(0); flags < 0x20; flags++ {
		for _, mask := range []uint32{FileGenericRead, GenericAll, GenericRead | FileWriteData} {
			for _, sid := range []SID{Everyone, creatorOwner, creatorGroup} {
				for _, typ := range []AceType{Allow, Deny} {
					parent := []ACE{{Type: typ, Flags: flags, Mask: mask, SID: sid}}
					for _, dir := range []bool{false, true} {
						got := inheritedACEs(parent, dir, owner, group)
						var gotM []am.ACE
						for _, a := range got {
							gotM = append(gotM, toModel(a))
						}
						want := am.InheritedACEs([]am.ACE{toModel(parent[0])}, dir, am.SID(owner), am.SID(group), am.FileMapping)
						if fmt.Sprint(gotM) != fmt.Sprint(want) {
							t.Errorf("%s flags=%#x mask=%#x dir=%t: winplan %v, model %v", sid, flags, mask, dir, gotM, want)
						}
					}
				}
			}
		}
	}
}

// TestModelPrivateTemp: review M11. Each workspace has a private temp root,
// writable by its own runs only, even in read-only mode; each command gets a
// directory of its own there as TEMP and TMP; the user's own TEMP, shared
// with every program of the user, stays unwritable.
func TestModelPrivateTemp(t *testing.T) {
	for _, readOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("readOnly=%t", readOnly), func(t *testing.T) {
			in := modelInput()
			in.ReadOnly = readOnly
			runTemp := in.TempRoot + `\run-1`
			mk := func(t *testing.T) *world {
				w := prepare(t, in, nil)
				if w.plan.TempRoot != in.TempRoot {
					t.Fatalf("temp root %s, want %s", w.plan.TempRoot, in.TempRoot)
				}
				mustM(t, w.mfs.Create(runTemp, true, nil))
				env, err := w.plan.CommandEnv(runTemp)
				mustM(t, err)
				if envValue(env, "TEMP") != runTemp || envValue(env, "TMP") != runTemp || envValue(env, "SystemRoot") != `C:\Windows` {
					t.Fatalf("environment %v", env)
				}
				if _, err := w.plan.CommandEnv(mProfile + `\AppData\Local\Temp`); err == nil {
					t.Fatal("a temp directory outside the temp root was accepted")
				}
				return w
			}

			workspaceWrite := allow
			if readOnly {
				workspaceWrite = deny
			}
			runProbes(t, mk, []probe{
				{name: "create a file in the command's TEMP", op: create(runTemp+`\build.tmp`, false)},
				{name: "create a directory in the command's TEMP", op: create(runTemp+`\go-build1`, true)},
				{name: "write a workspace file", op: write(mWS + `\main.go`), sandbox: workspaceWrite},
				{name: "create a file in the user's own TEMP", op: create(mProfile+`\AppData\Local\Temp\x.exe`, false), sandbox: deny},
			})
			// Another workspace's run, on the same machine, cannot use this
			// one's temp root.
			w := mk(t)
			o := modelInput()
			o.Workspace, o.ProtectedPaths = `C:\src\app2`, nil
			o.TempRoot, _ = TempRootFor(mState, o.Workspace)
			if o.TempRoot == in.TempRoot {
				t.Fatal("two workspaces share a temp root")
			}
			mustM(t, w.fs.Mkdir(o.TempRoot))
			po, err := Build(o, w.mfs, &fixedSIDs{next: 100}, Identity{User: SID(mUser), Logon: SID(mLogon)})
			mustM(t, err)
			if _, err := Reconcile(w.mfs, w.mfs, &memJournal{}, &po.ACL, fixedNow); err != nil {
				t.Fatal(err)
			}
			other := sandboxToken(t, w.user, po)
			if err := w.fs.Create(&other, runTemp+`\x`, false); err == nil {
				t.Error("another workspace's sandbox writes this workspace's TEMP")
			}
			if err := w.fs.Create(&other, po.TempRoot+`\x`, false); err != nil {
				t.Errorf("the other sandbox cannot write its own temp root: %v", err)
			}
		})
	}
}

// TestModelGitFile: review L13. In a worktree (or submodule) .git is a file
// naming the real git directory. cordon protects that file (rewritten, it
// would point the user's git at hooks the command wrote), the git directory
// it names and, for a worktree, the common directory's config and hooks; it
// does not try to create placeholders below a file.
func TestModelGitFile(t *testing.T) {
	const wt = mProfile + `\src\wt`
	const gitdir = mWS + `\.git\worktrees\wt`
	in := modelInput()
	in.Workspace = wt
	in.TempRoot, _ = TempRootFor(mState, wt)
	in.WritableRoots = []string{mWS}
	in.ProtectedPaths = []ProtectedPath{
		{Path: wt + `\.git\hooks`, Dir: true}, {Path: wt + `\.git\config`},
		{Path: wt + `\.vscode`, Dir: true},
	}
	mk := func(t *testing.T) *world {
		return prepare(t, in, func(fs *am.FS) {
			mustM(t, fs.WriteFile(wt+`\.git`))
			mustM(t, fs.WriteFile(wt+`\main.go`))
			mustM(t, fs.WriteFile(gitdir+`\HEAD`))
			mustM(t, fs.WriteFile(gitdir+`\commondir`))
			mustM(t, fs.Mkdir(in.TempRoot))
		})
	}
	files := map[string]string{wt + `\.git`: "gitdir: " + gitdir + "\n", gitdir + `\commondir`: "../..\n"}
	contents = files
	defer func() { contents = nil }()
	runProbes(t, mk, []probe{
		{name: "rewrite the .git file", op: write(wt + `\.git`), sandbox: deny},
		{name: "delete the .git file", op: del(wt + `\.git`), sandbox: deny},
		{name: "replace the .git file", op: then(create(wt+`\forged`, false), replaceWith(wt+`\forged`, wt+`\.git`)), sandbox: deny},
		{name: "write the worktree git directory's config (a placeholder)", op: write(gitdir + `\config`), sandbox: deny},
		{name: "write the worktree's config.worktree (a placeholder)", op: write(gitdir + `\config.worktree`), sandbox: deny},
		{name: "create a hook in the worktree's git directory", op: create(gitdir+`\hooks\pre-commit`, false), sandbox: deny},
		{name: "create a hook in the common directory", op: create(mWS+`\.git\hooks\pre-commit`, false), sandbox: deny},
		{name: "write the common config", op: write(mWS + `\.git\config`), sandbox: deny},
		{name: "write the worktree's HEAD (git works)", op: write(gitdir + `\HEAD`)},
		{name: "write a workspace file", op: write(wt + `\main.go`)},
	})
}

// TestModelDesktops: review H4. The user's default desktop grants the
// logon SID full access, and the logon SID is one of the sandbox's
// restricting SIDs, so both passes let the command open it for hooks and
// journal recording: cordon cannot keep it off the user's desktop and must
// say so. The desktop of its own it runs on is closed to other sandboxes.
func TestModelDesktops(t *testing.T) {
	w := prepare(t, modelInput(), nil)
	userDesktop := &am.SD{Owner: am.LocalSystem, DACL: []am.ACE{
		{Type: am.Allowed, Mask: am.GenericAll, SID: mLogon}, {Type: am.Allowed, Mask: am.GenericAll, SID: am.LocalSystem},
	}}
	hook := am.DesktopHookControl | am.DesktopJournalRecord
	if err := am.AccessCheck(&w.sandbox, userDesktop, hook, am.DesktopMapping); err == nil {
		if f := factFor(w.plan, LayerUI); f.Status != NotEnforced {
			t.Errorf("the sandbox may hook the user's desktop, and the report says %q", f.Status)
		}
	}
	spec, err := NewDesktopSpec(SID("S-1-5-21-999-999-999-1"), SID(mUser))
	mustM(t, err)
	own := &am.SD{Owner: am.SID(mUser)}
	for _, a := range spec.DACL {
		own.DACL = append(own.DACL, toModel(a))
	}
	other := prepare(t, modelInput(), nil).sandbox
	if err := am.AccessCheck(&other, own, hook|am.DesktopWriteObjects, am.DesktopMapping); err == nil {
		t.Error("another sandbox may hook this run's desktop")
	}
}

// TestModelTable: every operation on every class of path, as the sandbox
// and as the user, against what cordon promises; each protected object is
// also reached through the other spellings Windows accepts (case, 8.3
// name, stream, trailing dot, \\?\ prefix). Nested roots, a placeholder and
// a file inside a protected directory are among the classes.
func TestModelTable(t *testing.T) {
	in := modelInput()
	in.WritableRoots = []string{mWS + `\sub`}
	in.ProtectedPaths = append(in.ProtectedPaths, ProtectedPath{Path: mWS + `\sub\.git\config`})
	mk := func(t *testing.T) *world {
		return prepare(t, in, func(fs *am.FS) {
			mustM(t, fs.WriteFile(mWS+`\sub\.git\config`))
			mustM(t, fs.WriteFile(mWS+`\sub\x.go`))
			mustM(t, fs.WriteFile(mWS+`\.git\hooks\pre-commit.sample`))
		})
	}
	type class struct {
		name     string
		paths    []string
		writable bool // inside a root and not protected
		outside  bool // outside every root: deletes are the known gap
	}
	config := mWS + `\.git\config`
	classes := []class{
		{"workspace file", []string{mWS + `\main.go`, `c:\users\ME\src\APP\MAIN.GO`}, true, false},
		{"file in a nested root", []string{mWS + `\sub\x.go`}, true, false},
		{"protected file", []string{config, mWS + `\GIT~1\config`, config + `:s`, config + `.`, `\\?\` + config, strings.ToUpper(config)}, false, false},
		{"protected file of a nested root", []string{mWS + `\sub\.git\config`}, false, false},
		{"file in a protected directory", []string{mWS + `\.git\hooks\pre-commit.sample`}, false, false},
		{"placeholder file", []string{mWS + `\.mcp.json`}, false, false},
		{"outside file", []string{mProfile + `\Documents\thesis.docx`}, false, true},
		{"cordon's ledger", []string{mState + `\ledger.json`}, false, false},
	}
	type op struct {
		name     string
		do       func(p string) func(*world, *am.Token) error
		kind     string // "read", "write", "delete", "acl"
		mutating bool
	}
	n := 0
	next := func() int { n++; return n }
	ops := []op{
		{"read", read, "read", false},
		{"write", write, "write", false},
		{"append", appendTo, "write", false},
		{"set attributes", setAttrs, "write", false},
		{"write EAs", writeEA, "write", false},
		{"write the DACL", setDACL, "acl", false},
		{"take ownership", takeOwnership, "acl", false},
		{"delete", del, "delete", true},
		{"rename in place", func(p string) func(*world, *am.Token) error {
			return func(w *world, t *am.Token) error {
				c, _ := CleanPath(p)
				return w.fs.Rename(t, p, parentOf(c)+fmt.Sprintf(`\renamed-%d`, next()), false)
			}
		}, "delete", true},
		{"move into the workspace", func(p string) func(*world, *am.Token) error {
			return func(w *world, t *am.Token) error {
				return w.fs.Rename(t, p, mWS+fmt.Sprintf(`\moved-%d`, next()), false)
			}
		}, "delete", true},
		{"hard-link into the workspace", func(p string) func(*world, *am.Token) error {
			return func(w *world, t *am.Token) error {
				return w.fs.HardLink(t, p, mWS+fmt.Sprintf(`\link-%d`, next()))
			}
		}, "write", false},
	}
	var probes []probe
	for _, c := range classes {
		for _, p := range c.paths {
			for _, o := range ops {
				want := deny
				switch {
				case o.kind == "read":
					want = allow
				case o.kind == "acl":
					want = deny
				case c.writable:
					want = allow
				case c.outside && o.kind == "delete" && o.name != "rename in place":
					// A rename in place needs the add right on the outside
					// directory; deleting and moving into a root do not.
					want = gap
				}
				pr := probe{name: fmt.Sprintf("%s %s (%s)", o.name, c.name, p), op: o.do(p), sandbox: want}
				if want == gap {
					pr.gapLayer = LayerOutsideDeletes
				}
				// Streams and \\?\ forms of a rename target are not
				// meaningful; keep the data operations for them.
				if o.mutating && (strings.Contains(p, ":s") || strings.HasPrefix(p, `\\?\`)) {
					continue
				}
				probes = append(probes, pr)
			}
		}
	}
	runProbes(t, mk, probes)
	t.Logf("%d probes, each as the sandbox and as the user", len(probes))
}
