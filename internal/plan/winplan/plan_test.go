package winplan

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const (
	testLogon   SID = "S-1-5-5-0-123456"
	testUser    SID = "S-1-5-21-111-222-333-1001"
	testProfile     = `C:\Users\me`
	testState       = `C:\Users\me\AppData\Local\cordon\state`
	testWS          = `C:\src\app`
)

var testID = Identity{User: testUser, Logon: testLogon}

// project builds a workspace with a git repository in the fake.
func project(t *testing.T) *fakeFS {
	f := newFakeFS()
	f.mkdir(t, testProfile)
	f.mkdir(t, testState)
	f.mkdir(t, testWS+`\.git\hooks`)
	f.file(t, testWS+`\.git\config`, 120)
	f.file(t, testWS+`\main.go`, 10)
	return f
}

func baseInput() Input {
	return Input{
		Workspace:  testWS,
		StateDir:   testState,
		ProfileDir: testProfile,
		ProtectedPaths: []ProtectedPath{
			{Path: testWS + `\.git\hooks`, Dir: true},
			{Path: testWS + `\.git\config`},
			{Path: testWS + `\.vscode`, Dir: true},
			{Path: testWS + `\.mcp.json`},
		},
		Env: []string{`PATH=C:\Windows\System32`, `SystemRoot=C:\Windows`},
	}
}

func build(t *testing.T, f *fakeFS, in Input, sids SIDSource) *Plan {
	t.Helper()
	p, err := Build(in, f, sids, testID)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return p
}

// grantsOn finds the grants for one path.
func grantsOn(p *Plan, path string) []Grant {
	var out []Grant
	for _, g := range p.ACL.Grants {
		if strings.EqualFold(g.Object.Path, path) {
			out = append(out, g)
		}
	}
	return out
}

// grantsFor finds the grants for one path and SID.
func grantsFor(p *Plan, path string, sid SID) []Grant {
	var out []Grant
	for _, g := range grantsOn(p, path) {
		if g.ACE.SID == sid {
			out = append(out, g)
		}
	}
	return out
}

func TestBuildWorkspace(t *testing.T) {
	f := project(t)
	p := build(t, f, baseInput(), &fixedSIDs{})

	if len(p.Roots) != 1 || p.Roots[0].Path != testWS || !IsCapabilitySID(p.Roots[0].SID) {
		t.Fatalf("roots = %+v", p.Roots)
	}
	sid := p.Roots[0].SID

	root := grantsFor(p, testWS, sid)
	if len(root) != 1 || root[0].ACE != (ACE{Type: Allow, Flags: InheritAll, Mask: RootAllowMask, SID: sid}) {
		t.Fatalf("root grants = %+v", root)
	}
	if RootAllowMask&FileDeleteChild != 0 || RootAllowMask&Delete == 0 || RootAllowMask&(WriteDAC|WriteOwner) != 0 {
		t.Errorf("RootAllowMask %#x: want DELETE, no FILE_DELETE_CHILD, no WRITE_DAC/WRITE_OWNER", RootAllowMask)
	}

	hooks := grantsFor(p, testWS+`\.git\hooks`, sid)
	if len(hooks) != 1 || hooks[0].ACE != (ACE{Type: Deny, Flags: InheritAll, Mask: DenyWriteMask, SID: sid}) {
		t.Fatalf(".git\\hooks grants = %+v", hooks)
	}
	if DenyWriteMask&Delete == 0 || DenyWriteMask&FileDeleteChild == 0 || DenyWriteMask&(ReadControl|Synchronize) != 0 {
		t.Errorf("DenyWriteMask %#x: want DELETE and FILE_DELETE_CHILD, not READ_CONTROL or SYNCHRONIZE", DenyWriteMask)
	}
	config := grantsOn(p, testWS+`\.git\config`)
	if len(config) != 1 || config[0].ACE != (ACE{Type: Deny, Flags: 0, Mask: DenyWriteMask, SID: sid}) {
		t.Fatalf(".git\\config grants = %+v (a file gets no inheritance flags)", config)
	}
	// .git lies between the root and two protected paths: renaming it away
	// must be denied, once.
	gitdir := grantsFor(p, testWS+`\.git`, sid)
	if len(gitdir) != 1 || gitdir[0].ACE != (ACE{Type: Deny, Mask: Delete, SID: sid}) {
		t.Fatalf(".git grants = %+v", gitdir)
	}

	// The user is denied FILE_DELETE_CHILD on the root and every directory
	// holding a protected path (this directory only), and on protected
	// directories (with their subdirectories); never on files, and nothing
	// else is granted or denied to the user.
	guards := map[string]uint8{testWS: 0, testWS + `\.git`: 0, testWS + `\.git\hooks`: ContainerInherit, testWS + `\.vscode`: ContainerInherit}
	for _, g := range p.ACL.Grants {
		if g.ACE.SID != testUser || g.Reason == ReasonGuardOutside {
			continue
		}
		want, ok := guards[g.Object.Path]
		if !ok || g.ACE != (ACE{Type: Deny, Flags: want, Mask: FileDeleteChild, SID: testUser}) || g.Reason != ReasonDeleteChild {
			t.Errorf("unexpected grant for the user: %+v", g)
		}
		delete(guards, g.Object.Path)
	}
	if len(guards) != 0 {
		t.Errorf("no FILE_DELETE_CHILD deny on %v", guards)
	}

	wantCreate := []Placeholder{{Path: testWS + `\.vscode`, Dir: true}, {Path: testWS + `\.mcp.json`, Dir: false, Content: "{\"mcpServers\": {}}\n"}}
	if len(p.ACL.Create) != 2 || p.ACL.Create[0] != wantCreate[0] || p.ACL.Create[1] != wantCreate[1] {
		t.Fatalf("placeholders = %+v, want %+v", p.ACL.Create, wantCreate)
	}

	// Denies come before allows, and the null device is last.
	seenAllow := false
	for _, g := range p.ACL.Grants {
		if g.ACE.Type == Allow {
			seenAllow = true
		} else if seenAllow {
			t.Fatalf("deny grant %+v after an allow grant", g)
		}
	}
	last := p.ACL.Grants[len(p.ACL.Grants)-1]
	if last.Object != NullDevice || last.ACE.SID != testLogon || !containsSID(last.AnyOf, Everyone) {
		t.Fatalf("last grant = %+v, want the null device for the logon SID", last)
	}
}

func TestBuildMissingParentsArePlaceholders(t *testing.T) {
	f := newFakeFS()
	f.mkdir(t, testProfile)
	f.mkdir(t, testWS)
	in := baseInput()
	in.ProtectedPaths = []ProtectedPath{{Path: testWS + `\.git\hooks`, Dir: true}, {Path: testWS + `\.git\config`}}
	p := build(t, f, in, &fixedSIDs{})
	want := []Placeholder{
		{Path: testWS + `\.git`, Dir: true},
		{Path: testWS + `\.git\hooks`, Dir: true},
		{Path: testWS + `\.git\config`, Dir: false},
	}
	if len(p.ACL.Create) != len(want) {
		t.Fatalf("placeholders = %+v, want %+v", p.ACL.Create, want)
	}
	for i := range want {
		if p.ACL.Create[i] != want[i] {
			t.Fatalf("placeholders = %+v, want %+v", p.ACL.Create, want)
		}
	}
}

func TestBuildNestedRoots(t *testing.T) {
	f := project(t)
	f.mkdir(t, testWS+`\sub\.git`)
	in := baseInput()
	in.WritableRoots = []string{testWS + `\sub`}
	in.ProtectedPaths = []ProtectedPath{{Path: testWS + `\sub\.git`, Dir: true}}
	p := build(t, f, in, &fixedSIDs{})
	if len(p.Roots) != 2 {
		t.Fatalf("roots = %+v", p.Roots)
	}
	outer, inner := p.Roots[0].SID, p.Roots[1].SID
	var deniedFor []SID
	for _, g := range grantsOn(p, testWS+`\sub\.git`) {
		if g.ACE.Type == Deny && g.ACE.Mask == DenyWriteMask {
			deniedFor = append(deniedFor, g.ACE.SID)
		}
	}
	if len(deniedFor) != 2 || !containsSID(deniedFor, outer) || !containsSID(deniedFor, inner) {
		t.Fatalf("deny-write on sub\\.git for %v, want both %s and %s", deniedFor, outer, inner)
	}
	// The outer root's SID could rename the inner root away.
	var subDenies []ACE
	for _, g := range grantsFor(p, testWS+`\sub`, outer) {
		if g.ACE.Type == Deny {
			subDenies = append(subDenies, g.ACE)
		}
	}
	if len(subDenies) != 1 || subDenies[0] != (ACE{Type: Deny, Mask: Delete, SID: outer}) {
		t.Fatalf("denies on sub = %+v, want DELETE for the outer SID", subDenies)
	}
}

func TestBuildLinkedWorkspaceIsResolved(t *testing.T) {
	f := project(t)
	f.mkdir(t, `D:\real\app\.git`)
	f.link(t, `C:\src\linked`, `D:\real\app`)
	in := baseInput()
	in.Workspace = `C:\src\linked`
	in.ProtectedPaths = []ProtectedPath{{Path: `C:\src\linked\.git`, Dir: true}}
	p := build(t, f, in, &fixedSIDs{})
	if p.Roots[0].Path != `D:\real\app` {
		t.Fatalf("root = %s, want the link's target", p.Roots[0].Path)
	}
	if g := grantsFor(p, `D:\real\app\.git`, p.Roots[0].SID); len(g) != 1 || g[0].ACE.Type != Deny {
		t.Fatalf("protected path not planned at its resolved place: %+v", p.ACL.Grants)
	}
}

func TestBuildRefuses(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*Input, *fakeFS)
		want   string
	}{
		{"drive root", func(in *Input, f *fakeFS) { in.WritableRoots = []string{`D:\`} }, "drive or share root"},
		{"share root", func(in *Input, f *fakeFS) { in.WritableRoots = []string{`\\srv\share`} }, "drive or share root"},
		{"profile", func(in *Input, f *fakeFS) { in.WritableRoots = []string{testProfile} }, "profile directory"},
		{"profile, other case", func(in *Input, f *fakeFS) { in.WritableRoots = []string{`c:\users\ME\`} }, "profile directory"},
		{"above profile", func(in *Input, f *fakeFS) { in.WritableRoots = []string{`C:\Users`} }, "profile directory"},
		{"AppData", func(in *Input, f *fakeFS) {
			f.mkdir(t, testProfile+`\AppData\Local`)
			in.WritableRoots = []string{testProfile + `\AppData\Local`}
		}, "UsrClass.dat"},
		{"hive file", func(in *Input, f *fakeFS) {
			f.mkdir(t, `C:\hives\NTUSER.DAT`)
			in.WritableRoots = []string{`C:\hives\NTUSER.DAT`}
		}, "registry hive"},
		{"state dir inside a root", func(in *Input, f *fakeFS) {
			f.mkdir(t, `C:\data\cordon`)
			in.WritableRoots = []string{`C:\data`}
			in.StateDir = `C:\data\cordon`
		}, "state directory"},
		{"state dir inside the workspace, read-only", func(in *Input, f *fakeFS) {
			in.ReadOnly = true
			in.StateDir = testWS + `\.cordon`
		}, "inside the workspace"},
		{"junction to a drive root", func(in *Input, f *fakeFS) {
			f.link(t, `C:\src\evil`, `C:\`)
			in.WritableRoots = []string{`C:\src\evil`}
		}, "link to C:\\"},
		{"junction to the profile", func(in *Input, f *fakeFS) {
			f.link(t, `C:\src\evil`, testProfile)
			in.WritableRoots = []string{`C:\src\evil`}
		}, "profile directory"},
		{"protected path through a junction", func(in *Input, f *fakeFS) {
			f.mkdir(t, `E:\gitdirs\app`)
			delete(f.nodes, mustKey(testWS+`\.git\hooks`))
			delete(f.nodes, mustKey(testWS+`\.git\config`))
			f.link(t, testWS+`\.git`, `E:\gitdirs\app`)
		}, "link or junction"},
		{"protected path is a root", func(in *Input, f *fakeFS) {
			in.WritableRoots = []string{testWS + `\.git\hooks`}
		}, "both a writable root and a protected path"},
		{"share path", func(in *Input, f *fakeFS) {
			f.mkdir(t, `\\srv\share\proj`)
			in.WritableRoots = []string{`\\srv\share\proj`}
		}, "network share"},
		{"link to a share", func(in *Input, f *fakeFS) {
			f.mkdir(t, `\\srv\share\proj`)
			f.link(t, testWS+`\share`, `\\srv\share\proj`)
			in.WritableRoots = []string{testWS + `\share`}
		}, "it leads to \\\\srv\\share\\proj"},
		{"mapped drive", func(in *Input, f *fakeFS) {
			f.mkdir(t, `H:\proj`)
			f.volumes = map[string]VolumeInfo{`H:\`: {Remote: true, ACLs: true, FileSystem: "NTFS"}}
			in.WritableRoots = []string{`H:\proj`}
		}, "mapped network drive"},
		{"FAT volume", func(in *Input, f *fakeFS) {
			f.mkdir(t, `E:\stick`)
			f.volumes = map[string]VolumeInfo{`E:\`: {FileSystem: "FAT32"}}
			in.WritableRoots = []string{`E:\stick`}
		}, "FAT32 volume, which keeps no ACLs"},
		{"network isolation", func(in *Input, f *fakeFS) { in.RequireNetworkIsolation = true }, "elevated Windows mode"},
		{"deny-read", func(in *Input, f *fakeFS) { in.DenyRead = []string{testProfile + `\.ssh`} }, "cannot stop reads"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := project(t)
			in := baseInput()
			c.modify(&in, f)
			_, err := Build(in, f, &fixedSIDs{}, testID)
			if err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Build error = %v, want ErrRefused mentioning %q", err, c.want)
			}
		})
	}
}

func TestBuildAcceptedDenyReadRuns(t *testing.T) {
	f := project(t)
	in := baseInput()
	in.DenyRead = []string{testProfile + `\.ssh`}
	in.AcceptUnenforcedDenyRead = true
	p := build(t, f, in, &fixedSIDs{})
	for _, fact := range p.Facts(nil, nil) {
		if fact.Layer == "filesystem reads" && fact.Status != NotEnforced {
			t.Fatalf("reads reported as %s", fact.Status)
		}
	}
}

func TestBuildMissingRoot(t *testing.T) {
	f := project(t)
	in := baseInput()
	in.WritableRoots = []string{`C:\nope`}
	if _, err := Build(in, f, &fixedSIDs{}, testID); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v", err)
	}
}

func TestBuildReadOnly(t *testing.T) {
	f := project(t)
	in := baseInput()
	in.ReadOnly = true
	p := build(t, f, in, &fixedSIDs{})
	if len(p.Roots) != 0 || len(p.ACL.Create) != 0 {
		t.Fatalf("read-only plan has roots %v or placeholders %v", p.Roots, p.ACL.Create)
	}
	for _, g := range p.ACL.Grants[:len(p.ACL.Grants)-1] {
		if g.Reason != ReasonGuardOutside || g.ACE.SID != testUser {
			t.Errorf("read-only grant %+v, want only guards for the user and the null device", g)
		}
	}
	if last := p.ACL.Grants[len(p.ACL.Grants)-1]; last.Object != NullDevice {
		t.Fatalf("read-only grants = %+v, want the null device last", p.ACL.Grants)
	}
	// The workspace's protected paths have no root to hold them; in
	// read-only mode they are guarded against deletion like the state.
	if g := grantsFor(p, testWS+`\.git`, testUser); len(g) != 1 {
		t.Errorf(".git grants for the user = %+v", g)
	}
	if len(p.Unprotected) != len(in.ProtectedPaths) {
		t.Fatalf("unprotected = %v", p.Unprotected)
	}
}

func TestBuildProtectedDirCoversItsAncestorDeny(t *testing.T) {
	f := project(t)
	in := baseInput()
	in.ProtectedPaths = []ProtectedPath{{Path: testWS + `\.git`, Dir: true}, {Path: testWS + `\.git\hooks`, Dir: true}}
	p := build(t, f, in, &fixedSIDs{})
	g := grantsFor(p, testWS+`\.git`, p.Roots[0].SID)
	if len(g) != 1 || g[0].ACE.Mask != DenyWriteMask {
		t.Fatalf(".git grants = %+v, want one deny-write (which includes DELETE)", g)
	}
}

func TestAddWorldWritableDenies(t *testing.T) {
	f := project(t)
	p := build(t, f, baseInput(), &fixedSIDs{})
	sid := p.Roots[0].SID
	p.AddWorldWritableDenies([]string{`C:\tools\shared`, `C:\`, `C:\src`, testWS + `\tmp`})
	check := func(path string, flags uint8) {
		t.Helper()
		g := grantsOn(p, path)
		if len(g) != 1 || g[0].ACE != (ACE{Type: Deny, Flags: flags, Mask: DenyWriteMask, SID: sid}) {
			t.Fatalf("grants on %s = %+v, want deny-write with flags %#x", path, g, flags)
		}
	}
	check(`C:\tools\shared`, InheritAll)
	check(`C:\`, 0)    // a volume root: itself only
	check(`C:\src`, 0) // holds the workspace: itself only
	if g := grantsOn(p, testWS+`\tmp`); len(g) != 0 {
		t.Fatalf("a directory inside a root got %+v", g)
	}
	for i, g := range p.ACL.Grants {
		if g.Reason == ReasonWorldWritable && i > 0 && p.ACL.Grants[i-1].ACE.Type == Allow {
			t.Fatalf("world-writable deny placed after an allow")
		}
	}
}

// TestBuildOutsideGuards: review C2. Above cordon's state, the policy files
// outside the roots and the deny-read paths, the user's SID is denied
// FILE_DELETE_CHILD (best effort), up to the profile or workspace, never on
// a volume root or inside a root.
func TestBuildOutsideGuards(t *testing.T) {
	f := project(t)
	f.mkdir(t, testProfile+`\.ssh`)
	f.file(t, testProfile+`\AppData\Roaming\cordon\policy.toml`, 10)
	f.file(t, `D:\etc\cordon.toml`, 10)
	in := baseInput()
	in.ProtectedPaths = append(in.ProtectedPaths,
		ProtectedPath{Path: testProfile + `\AppData\Roaming\cordon\policy.toml`},
		ProtectedPath{Path: `D:\etc\cordon.toml`})
	in.DenyRead = []string{testProfile + `\.ssh`, testProfile + `\.aws`, `**/.env*`, testWS + `\.env`}
	in.AcceptUnenforcedDenyRead = true
	p := build(t, f, in, &fixedSIDs{})
	got := map[string]uint8{}
	for _, g := range p.ACL.Grants {
		if g.Reason == ReasonGuardOutside {
			if !g.BestEffort || g.ACE.SID != testUser || g.ACE.Type != Deny || g.ACE.Mask != FileDeleteChild {
				t.Errorf("guard %+v", g)
			}
			got[g.Object.Path] = g.ACE.Flags
		}
	}
	want := map[string]uint8{
		testState:                               ContainerInherit,
		testProfile + `\AppData\Local\cordon`:   0,
		testProfile + `\AppData\Local`:          0,
		testProfile + `\AppData`:                0,
		testProfile:                             0,
		testProfile + `\AppData\Roaming\cordon`: 0,
		testProfile + `\AppData\Roaming`:        0,
		`D:\etc`:                                0, // outside the profile: the parent only
		testProfile + `\.ssh`:                   ContainerInherit,
	}
	for path, flags := range want {
		if f, ok := got[path]; !ok || f != flags {
			t.Errorf("guard on %s: flags %#x, present %t; want flags %#x", path, f, ok, flags)
		}
	}
	for path := range got {
		if _, ok := want[path]; !ok {
			t.Errorf("unexpected guard on %s", path)
		}
	}
	fact := factFor(p, LayerOutsideDeletes)
	if fact.Status != NotEnforced || !strings.Contains(fact.Detail, "delete your files") {
		t.Errorf("fact = %+v", fact)
	}
}

// TestBuildProtectedChildren: every entry below a protected directory gets
// grants that hold through inheritance (so nothing is written for them on
// a sound tree), reparse points are not entered, and a directory too large
// to check is refused.
func TestBuildProtectedChildren(t *testing.T) {
	f := project(t)
	f.file(t, testWS+`\.git\hooks\pre-commit.sample`, 10)
	f.mkdir(t, testWS+`\.git\hooks\lib`)
	f.file(t, testWS+`\.git\hooks\lib\x.sh`, 10)
	f.link(t, testWS+`\.git\hooks\out`, `D:\elsewhere`)
	f.file(t, `D:\elsewhere\y`, 1)
	p := build(t, f, baseInput(), &fixedSIDs{})
	got := map[string]int{}
	for _, g := range p.ACL.Grants {
		if g.Reason == ReasonProtectedChild {
			got[g.Object.Path]++
			if len(g.NoneOf) == 0 {
				t.Errorf("grant %+v is not conditional", g)
			}
		}
	}
	want := map[string]int{testWS + `\.git\hooks\pre-commit.sample`: 1, testWS + `\.git\hooks\lib`: 2, testWS + `\.git\hooks\lib\x.sh`: 1, testWS + `\.git\hooks\out`: 1}
	if len(got) != len(want) {
		t.Fatalf("grants below hooks: %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d grants, want %d", k, got[k], n)
		}
	}
	j := &memJournal{}
	reconcile(t, f, j, p)
	for _, e := range j.aces {
		if e.Reason == ReasonProtectedChild {
			t.Errorf("an ACE was written below a sound protected directory: %+v", e)
		}
	}

	big := project(t)
	for i := 0; i <= MaxProtectedChildren; i++ {
		big.file(t, fmt.Sprintf(`%s\.git\hooks\f%d`, testWS, i), 0)
	}
	if _, err := Build(baseInput(), big, &fixedSIDs{}, testID); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("Build with a huge protected directory: %v", err)
	}
}

// TestBuildGitFile: a root whose .git is a file gets the file, the git
// directory it names (relative, with forward slashes, as git writes it on
// Windows) and the worktree's common directory protected; the policy's
// .git\hooks below the file turns into protecting the file itself.
func TestBuildGitFile(t *testing.T) {
	f := project(t)
	f.mkdir(t, `C:\src\wt`)
	f.file(t, `C:\src\wt\.git`, 40)
	f.mkdir(t, testWS+`\.git\worktrees\wt`)
	f.file(t, testWS+`\.git\worktrees\wt\commondir`, 6)
	f.contents = map[string]string{
		mustKey(`C:\src\wt\.git`):                        "gitdir: ../app/.git/worktrees/wt\n",
		mustKey(testWS + `\.git\worktrees\wt\commondir`): "../..\n",
	}
	in := baseInput()
	in.Workspace = `C:\src\wt`
	in.WritableRoots = []string{testWS}
	in.ProtectedPaths = []ProtectedPath{{Path: `C:\src\wt\.git\hooks`, Dir: true}}
	p := build(t, f, in, &fixedSIDs{})
	var protected []string
	for _, g := range p.ACL.Grants {
		if g.Reason == ReasonProtected {
			protected = append(protected, g.Object.Path)
		}
	}
	for _, want := range []string{`C:\src\wt\.git`, testWS + `\.git\worktrees\wt\config`, testWS + `\.git\worktrees\wt\config.worktree`,
		testWS + `\.git\worktrees\wt\hooks`, testWS + `\.git\config`, testWS + `\.git\hooks`} {
		if !slices.Contains(protected, want) {
			t.Errorf("%s not protected (protected: %v)", want, protected)
		}
	}
	for _, ph := range p.ACL.Create {
		if within(ph.Path, `C:\src\wt\.git`) && ph.Path != `C:\src\wt\.git` {
			t.Errorf("placeholder %s below the .git file", ph.Path)
		}
	}
	// An unreadable or malformed .git file: the file alone.
	f.contents = nil
	p = build(t, f, in, &fixedSIDs{})
	for _, g := range p.ACL.Grants {
		if g.Reason == ReasonProtected && strings.Contains(g.Object.Path, `worktrees`) {
			t.Errorf("protected %s from an unreadable .git file", g.Object.Path)
		}
	}
}

// TestPlaceholderContents: review L14. Placeholder files hold the smallest
// valid document of their kind (an empty .mcp.json is invalid JSON, which
// MCP clients refuse); cleanup removes one only while it still holds it.
func TestPlaceholderContents(t *testing.T) {
	f := project(t)
	in := baseInput()
	in.ProtectedPaths = append(in.ProtectedPaths, ProtectedPath{Path: testWS + `\.vscode\settings.json`}, ProtectedPath{Path: testWS + `\.env.local`})
	p := build(t, f, in, &fixedSIDs{})
	byPath := map[string]Placeholder{}
	for _, ph := range p.ACL.Create {
		byPath[ph.Path] = ph
	}
	mcp := byPath[testWS+`\.mcp.json`]
	var doc map[string]any
	if err := json.Unmarshal([]byte(mcp.Content), &doc); err != nil || doc["mcpServers"] == nil {
		t.Errorf(".mcp.json placeholder %q: %v", mcp.Content, err)
	}
	if c := byPath[testWS+`\.vscode\settings.json`].Content; !json.Valid([]byte(c)) {
		t.Errorf("settings.json placeholder %q is not JSON", c)
	}
	if c := byPath[testWS+`\.env.local`].Content; c != "" {
		t.Errorf(".env.local placeholder holds %q", c)
	}
	j := &memJournal{}
	reconcile(t, f, j, p)
	if got := f.nodes[mustKey(testWS+`\.mcp.json`)].content; got != mcp.Content {
		t.Fatalf("created .mcp.json holds %q", got)
	}
	// The user writes one placeholder; cleanup keeps it and removes the rest.
	f.nodes[mustKey(testWS+`\.vscode\settings.json`)].content = `{"editor.tabSize": 2}`
	res, err := Cleanup(f, f, j.ledger())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Kept, testWS+`\.vscode\settings.json`) || !slices.Contains(res.Removed, testWS+`\.mcp.json`) {
		t.Fatalf("removed %v, kept %v", res.Removed, res.Kept)
	}
}
