package winplan

// The elevated mode's plans judged by the access-check model: cordon plans
// and stamps as the user, the setup adds its deny-read ACEs, and the command
// runs with the token the runner derives from the sandbox account's own
// (RunnerTokenSpec), as CreateProcessWithLogonW would give it: the account,
// the sandbox group, Users, Authenticated Users, INTERACTIVE and a logon SID
// of its own.

import (
	"strconv"
	"testing"

	am "github.com/cordon-sandbox/cordon/internal/plan/winplan/accessmodel"
)

const (
	mSandboxUser  am.SID = "S-1-5-21-111-222-333-1010"
	mSandboxGroup am.SID = "S-1-5-21-111-222-333-1012"
	mRunnerLogon  am.SID = "S-1-5-5-0-88888"

	mRunner    = mProfile + `\go\bin\cordon.exe`
	mWSSecret  = mWS + `\.env`
	mDSecret   = `D:\secrets\token`
	mSSHSecret = mProfile + `\.ssh\id_ed25519`
)

func modelAccount() *SandboxAccount {
	return &SandboxAccount{Name: OfflineUser, SID: SID(mSandboxUser), Group: SID(mSandboxGroup)}
}

// elevatedMachine is the fixture with cordon's executable in the user's
// profile, a secret in the workspace, one on D: (where Authenticated Users
// may read and modify) and system files.
func elevatedMachine(t *testing.T) *am.FS {
	fs := machine(t)
	mustM(t, fs.Mkdir(mProfile+`\go\bin`))
	mustM(t, fs.Mkdir(`D:\secrets`))
	for _, f := range []string{mRunner, mWSSecret, mDSecret, `C:\Windows\System32\cmd.exe`} {
		mustM(t, fs.WriteFile(f))
	}
	return fs
}

func elevatedInput() Input {
	in := modelInput()
	in.Sandbox = modelAccount()
	in.Runner = mRunner
	in.DenyRead = []string{mWSSecret, mDSecret, mProfile + `\.ssh`, mProfile + `\.aws`, `~/pattern*`}
	return in
}

// runnerToken is the command's token: the sandbox account's logon token,
// restricted by the runner as RunnerTokenSpec says.
func runnerToken(t *testing.T, p *Plan) am.Token {
	t.Helper()
	base := am.StandardUser(mSandboxUser, mRunnerLogon, false)
	base.Groups = append(base.Groups, am.Group{SID: mSandboxGroup, Attr: am.Enabled})
	instances++
	spec, err := RunnerTokenSpec(p.CapabilitySIDs(), SID(mInstance(instances)), SID(mSandboxUser), SID(mRunnerLogon))
	mustM(t, err)
	var restricting, disable []am.SID
	for _, s := range spec.RestrictingSIDs {
		restricting = append(restricting, am.SID(s))
	}
	for _, s := range spec.DisableSIDs {
		disable = append(disable, am.SID(s))
	}
	tok := am.Restrict(base, spec.Flags, disable, restricting)
	tok.DefaultDACL = nil
	for _, a := range spec.DefaultDACL {
		tok.DefaultDACL = append(tok.DefaultDACL, toModel(a))
	}
	return tok
}

func mInstance(n int) string { return "S-1-5-21-999-999-998-" + strconv.Itoa(n) }

// prepareElevated stamps the machine as `cordon windows setup` (the
// default secrets) and one elevated run would.
func prepareElevated(t *testing.T, in Input) *world {
	t.Helper()
	fs := elevatedMachine(t)
	user := am.StandardUser(mUser, mLogon, true)
	w := &world{fs: fs, user: user, journal: &memJournal{}}
	w.mfs = &modelFS{fs: fs, user: &w.user,
		nul: DACL{ACEs: []ACE{{Type: Allow, Mask: GenericRead | GenericWrite, SID: Everyone}}}}
	setup, err := PlanSetup(SetupInput{Installer: SID(mUser), Secrets: DefaultSecrets(mProfile)})
	mustM(t, err)
	acl, _, err := setup.SetupACLPlan(w.mfs, SID(mSandboxGroup))
	mustM(t, err)
	if _, err := Reconcile(w.mfs, w.mfs, w.journal, &acl, fixedNow); err != nil {
		t.Fatalf("setup's Reconcile: %v", err)
	}
	mustM(t, fs.Mkdir(in.TempRoot))
	p, err := Build(in, w.mfs, &fixedSIDs{}, Identity{User: SID(mUser), Logon: SID(mLogon)})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if _, err := Reconcile(w.mfs, w.mfs, w.journal, &p.ACL, fixedNow); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	w.plan = p
	w.sandbox = runnerToken(t, p)
	return w
}

// TestModelElevatedRun: what the elevated mode promises, for the command and
// for the user, on the model machine.
func TestModelElevatedRun(t *testing.T) {
	mk := func(t *testing.T) *world { return prepareElevated(t, elevatedInput()) }
	probes := []probe{
		// The workspace works as in the unelevated mode.
		{name: "read a workspace file", op: read(mWS + `\main.go`)},
		{name: "write a workspace file", op: write(mWS + `\main.go`)},
		{name: "create a workspace file", op: create(mWS+`\new.go`, false)},
		{name: "create a workspace directory", op: create(mWS+`\pkg`, true)},
		{name: "delete a workspace file", op: del(mWS + `\src\lib.go`)},
		{name: "replace a workspace file (atomic save)", op: then(create(mWS+`\main.go.tmp`, false), replaceWith(mWS+`\main.go.tmp`, mWS+`\main.go`))},
		{name: "write .git\\HEAD", op: write(mWS + `\.git\HEAD`)},
		{name: "write in the private temp root", op: create(w0TempRoot()+`\x.tmp`, false)},
		// Its ACLs are not the sandbox's, nor those of what it creates.
		{name: "WRITE_DAC on a workspace file", op: setDACL(mWS + `\main.go`), sandbox: deny},
		{name: "take ownership of a workspace file", op: takeOwnership(mWS + `\main.go`), sandbox: deny},
		{name: "WRITE_DAC on a file the command created", op: then(create(mWS+`\mine.txt`, false), setDACL(mWS+`\mine.txt`)), sandbox: deny},
		// Protected paths hold, deletes through the parent included.
		{name: "read .git\\config", op: read(mWS + `\.git\config`)},
		{name: "write .git\\config", op: write(mWS + `\.git\config`), sandbox: deny},
		{name: "delete .git\\config", op: del(mWS + `\.git\config`), sandbox: deny},
		{name: "rename .git\\config away", op: rename(mWS+`\.git\config`, mWS+`\config.old`), sandbox: deny},
		{name: "rename .git away", op: rename(mWS+`\.git`, mWS+`\git.old`), sandbox: deny},
		{name: "delete .git\\hooks", op: del(mWS + `\.git\hooks\pre-commit.sample`), sandbox: deny},
		{name: "create a hook", op: create(mWS+`\.git\hooks\pre-commit`, false), sandbox: deny},
		{name: "write the placeholder .mcp.json", op: write(mWS + `\.mcp.json`), sandbox: deny},
		// Deny-read is enforced; the user still reads.
		{name: "read the workspace's .env (deny-read)", op: read(mWSSecret), sandbox: deny},
		{name: "write the workspace's .env", op: write(mWSSecret), sandbox: deny},
		{name: "read a secret on D: (Authenticated Users may read)", op: read(mDSecret), sandbox: deny},
		{name: "read ~\\.ssh\\id_ed25519", op: read(mSSHSecret), sandbox: deny},
		{name: "create a file in D:\\secrets", op: create(`D:\secrets\new`, false), sandbox: deny},
		// The rest of the profile is another user's: neither readable nor
		// deletable (the unelevated mode's gaps).
		{name: "read a document", op: read(mProfile + `\Documents\thesis.docx`), sandbox: deny},
		{name: "delete a document", op: del(mProfile + `\Documents\thesis.docx`), sandbox: deny},
		{name: "move a document into the workspace", op: rename(mProfile+`\Documents\thesis.docx`, mWS+`\thesis.docx`), sandbox: deny},
		{name: "read cordon's ledger", op: read(mState + `\ledger.json`), sandbox: deny},
		{name: "write cordon's ledger", op: write(mState + `\ledger.json`), sandbox: deny},
		{name: "delete cordon's ledger", op: del(mState + `\ledger.json`), sandbox: deny},
		// The runner can be run, not changed.
		{name: "read (run) cordon's executable", op: read(mRunner)},
		{name: "write cordon's executable", op: write(mRunner), sandbox: deny},
		{name: "delete cordon's executable", op: del(mRunner), sandbox: deny},
		// Outside the roots nothing is writable, where the account's normal
		// rights would allow it too.
		{name: "read a system file", op: read(`C:\Windows\System32\cmd.exe`)},
		{name: "write D:\\work\\app3\\main.go (Authenticated Users: Modify)", op: write(`D:\work\app3\main.go`), sandbox: deny},
		{name: "create a file on D:\\work", op: create(`D:\work\x`, false), sandbox: deny},
		{name: "hard-link a workspace file elsewhere", op: hardLink(mWS+`\main.go`, `C:\src\main.go`), sandbox: deny},
		// What no mode closes: Everyone is a restricting SID.
		{name: "write into an Everyone-writable directory", op: create(`C:\tools\shared\x.exe`, false), sandbox: gap, gapLayer: "Everyone-writable directories"},
	}
	runProbes(t, mk, probes)
}

func w0TempRoot() string { return elevatedInput().TempRoot }

// TestModelElevatedIsolatesWorkspaces: the sandbox group is granted on every
// workspace that ever ran elevated, so only the capability SIDs keep one
// workspace's command out of another's.
func TestModelElevatedIsolatesWorkspaces(t *testing.T) {
	w := prepareElevated(t, elevatedInput())
	other := elevatedInput()
	other.Workspace, other.TempRoot = `C:\src\app2`, ""
	other.ProtectedPaths = nil
	p2, err := Build(other, w.mfs, &fixedSIDs{next: 100}, Identity{User: SID(mUser), Logon: SID(mLogon)})
	mustM(t, err)
	if _, err := Reconcile(w.mfs, w.mfs, w.journal, &p2.ACL, fixedNow); err != nil {
		t.Fatal(err)
	}
	if err := w.fs.Write(&w.sandbox, `C:\src\app2\main.go`); err == nil {
		t.Error("the first workspace's command wrote the second workspace: the group's grant alone decided it")
	}
	second := runnerToken(t, p2)
	if err := w.fs.Write(&second, `C:\src\app2\main.go`); err != nil {
		t.Errorf("the second workspace's own command cannot write it: %v", err)
	}
}

// TestModelSetupDenyReadUndo: the setup's deny-read ACEs, recorded in its
// ledger, are exactly undone by --undo (Cleanup of the ledger's ACEs), and a
// second setup writes none.
func TestModelSetupDenyReadUndo(t *testing.T) {
	fs := elevatedMachine(t)
	before := fs.Snapshot()
	user := am.StandardUser(mUser, mLogon, true)
	m := &modelFS{fs: fs, user: &user}
	setup, err := PlanSetup(SetupInput{Installer: SID(mUser), Secrets: append(DefaultSecrets(mProfile), mDSecret)})
	mustM(t, err)
	led := &SetupLedger{Version: 1}
	saves := 0
	j := &SetupJournal{Ledger: led, Save: func() error { saves++; return nil }}
	acl, skipped, err := setup.SetupACLPlan(m, SID(mSandboxGroup))
	mustM(t, err)
	if len(acl.Grants) != 2 { // ~\.ssh and D:\secrets\token exist; the rest do not
		t.Fatalf("setup plans %d deny-read ACEs, want 2: %+v (skipped %v)", len(acl.Grants), acl.Grants, skipped)
	}
	if _, err := Reconcile(m, m, j, &acl, fixedNow); err != nil {
		t.Fatal(err)
	}
	if len(led.ACEs) != 2 || saves != 2 {
		t.Fatalf("ledger holds %d ACEs after %d saves", len(led.ACEs), saves)
	}
	sb := am.StandardUser(mSandboxUser, mRunnerLogon, false)
	sb.Groups = append(sb.Groups, am.Group{SID: mSandboxGroup, Attr: am.Enabled})
	for _, p := range []string{mDSecret, mSSHSecret} {
		if err := fs.Read(&sb, p); err == nil {
			t.Errorf("the sandbox account (unrestricted) reads %s after setup", p)
		}
		if err := fs.Read(&user, p); err != nil {
			t.Errorf("the installing user cannot read %s after setup: %v", p, err)
		}
	}
	writes := m.aceWrites
	acl2, _, _ := setup.SetupACLPlan(m, SID(mSandboxGroup))
	if st, err := Reconcile(m, m, j, &acl2, fixedNow); err != nil || st.ACEsAdded != 0 || m.aceWrites != writes {
		t.Fatalf("second setup: %+v, %v", st, err)
	}
	res, err := Cleanup(m, m, Ledger{ACEs: led.ACEs})
	if err != nil || len(res.Remaining.ACEs) != 0 {
		t.Fatalf("undo: %+v, %v", res, err)
	}
	after := fs.Snapshot()
	for path, sd := range before {
		if after[path] != sd {
			t.Errorf("%s changed:\n before %s\n after  %s", path, sd, after[path])
		}
	}
	if err := fs.Read(&sb, mDSecret); err != nil {
		t.Errorf("after undo the sandbox account still cannot read %s, which Authenticated Users may: %v", mDSecret, err)
	}
}

// TestModelElevatedDeleteChildFromUsers: a workspace below a directory that
// grants Users Full Control (shared build directories, some dev drives)
// gives the sandbox account FILE_DELETE_CHILD through its Users membership,
// decided by the normal pass; the deny for the sandbox group on the
// directories that hold protected paths is what keeps .git\config from
// being deleted through its parent.
func TestModelElevatedDeleteChildFromUsers(t *testing.T) {
	in := elevatedInput()
	in.Workspace, in.TempRoot = `D:\shared\proj`, ""
	in.ProtectedPaths = []ProtectedPath{{Path: `D:\shared\proj\.git\config`}, {Path: `D:\shared\proj\.git\hooks`, Dir: true}}
	in.DenyRead = nil
	mk := func(t *testing.T) *world {
		t.Helper()
		fs := elevatedMachine(t)
		mustM(t, fs.Mkdir(`D:\shared`, fileACE(am.Allowed, oici, am.FileAllAccess, am.Users)))
		mustM(t, fs.Mkdir(`D:\shared\proj\.git\hooks`))
		mustM(t, fs.WriteFile(`D:\shared\proj\.git\config`))
		mustM(t, fs.WriteFile(`D:\shared\proj\main.go`))
		user := am.StandardUser(mUser, mLogon, true)
		w := &world{fs: fs, user: user, journal: &memJournal{}}
		w.mfs = &modelFS{fs: fs, user: &w.user, nul: DACL{ACEs: []ACE{{Type: Allow, Mask: GenericRead | GenericWrite, SID: Everyone}}}}
		p, err := Build(in, w.mfs, &fixedSIDs{}, Identity{User: SID(mUser), Logon: SID(mLogon)})
		mustM(t, err)
		if _, err := Reconcile(w.mfs, w.mfs, w.journal, &p.ACL, fixedNow); err != nil {
			t.Fatal(err)
		}
		w.plan, w.sandbox = p, runnerToken(t, p)
		return w
	}
	runProbes(t, mk, []probe{
		{name: "write main.go", op: write(`D:\shared\proj\main.go`)},
		{name: "delete .git\\config", op: del(`D:\shared\proj\.git\config`), sandbox: deny},
		{name: "rename .git\\config away", op: rename(`D:\shared\proj\.git\config`, `D:\shared\proj\config.old`), sandbox: deny},
		{name: "create and delete .git\\index.lock (git works)", op: then(create(`D:\shared\proj\.git\index.lock`, false), del(`D:\shared\proj\.git\index.lock`))},
	})
}
