package accessmodel

import (
	"errors"
	"slices"
	"testing"
)

// The cases here come from the documents the package doc cites; each names
// its source. They judge the model, so that the model can judge cordon.

const (
	andrew SID = "S-1-5-21-1-1-1-1001"
	jane   SID = "S-1-5-21-1-1-1-1002"
	groupA SID = "S-1-5-21-1-1-1-2001"
	me     SID = "S-1-5-21-7-7-7-1001"
	logon  SID = "S-1-5-5-0-4242"
	capA   SID = "S-1-5-21-10-20-30-40"
	capB   SID = "S-1-5-21-50-60-70-80"
)

func tok(user SID, groups ...SID) *Token {
	t := &Token{User: user, Integrity: MediumIntegrity, NoWriteUp: true, Privileges: []string{SeChangeNotify}}
	for _, g := range groups {
		t.Groups = append(t.Groups, Group{SID: g, Attr: Enabled})
	}
	return t
}

func allowed(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: denied (%v), want allowed", what, err)
	}
}

func denied(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: allowed, want denied", what)
	} else if !errors.Is(err, ErrAccessDenied) && !errors.Is(err, ErrPrivilegeNotHeld) && !errors.Is(err, ErrInvalid) {
		t.Errorf("%s: failed with %v, want an access denial", what, err)
	}
}

// "How DACLs Control Access to an Object" (Win32 docs): the example DACL
// denies Andrew, allows Group A write and Everyone read and execute.
func TestDocHowDACLsControlAccess(t *testing.T) {
	sd := &SD{Owner: LocalSystem, DACL: []ACE{
		{Type: Denied, Mask: FileMapping.Map(GenericRead | GenericWrite | GenericExecute), SID: andrew},
		{Type: Allowed, Mask: FileMapping.Write, SID: groupA},
		{Type: Allowed, Mask: FileMapping.Read | FileMapping.Execute, SID: Everyone},
	}}
	threadA := tok(andrew, groupA, Everyone)
	threadB := tok(jane, groupA, Everyone)
	want := FileWriteData | FileReadData | FileExecute
	denied(t, AccessCheck(threadA, sd, want, FileMapping), "thread A (Andrew)")
	allowed(t, AccessCheck(threadB, sd, want, FileMapping), "thread B (Jane)")
}

// "Order of ACEs in a DACL": the check stops at the first ACEs that grant
// every requested right, so a deny behind an allow does not count for what
// was already granted.
func TestDocACEOrder(t *testing.T) {
	u := tok(jane, Everyone)
	allowFirst := &SD{Owner: LocalSystem, DACL: []ACE{
		{Type: Allowed, Mask: FileWriteData, SID: jane},
		{Type: Denied, Mask: FileWriteData, SID: jane},
	}}
	denyFirst := &SD{Owner: LocalSystem, DACL: []ACE{allowFirst.DACL[1], allowFirst.DACL[0]}}
	allowed(t, AccessCheck(u, allowFirst, FileWriteData, FileMapping), "allow before deny")
	denied(t, AccessCheck(u, denyFirst, FileWriteData, FileMapping), "deny before allow")
	// A deny for bits not requested (or already granted) does not stop a
	// request for others.
	partial := &SD{Owner: LocalSystem, DACL: []ACE{
		{Type: Allowed, Mask: FileReadData, SID: jane},
		{Type: Denied, Mask: FileReadData | FileWriteData, SID: jane},
		{Type: Allowed, Mask: FileReadData, SID: Everyone},
	}}
	allowed(t, AccessCheck(u, partial, FileReadData, FileMapping), "read granted before the deny is met")
	denied(t, AccessCheck(u, partial, FileWriteData, FileMapping), "write denied")
}

// MS-DTYP 2.5.3.2: no DACL grants everything; an empty DACL grants nothing
// but the owner's implied READ_CONTROL and WRITE_DAC. With an OWNER RIGHTS
// ACE the owner gets what that ACE says instead.
func TestDocNullEmptyDACLAndOwnerRights(t *testing.T) {
	u := tok(me, Everyone)
	allowed(t, AccessCheck(u, &SD{Owner: LocalSystem, NullDACL: true}, FileAllAccess, FileMapping), "NULL DACL")
	empty := &SD{Owner: me}
	denied(t, AccessCheck(u, empty, FileReadData, FileMapping), "empty DACL, read")
	allowed(t, AccessCheck(u, empty, ReadControl|WriteDAC, FileMapping), "empty DACL, owner's implied rights")
	denied(t, AccessCheck(tok(jane, Everyone), empty, ReadControl, FileMapping), "empty DACL, not the owner")
	ownerRights := &SD{Owner: me, DACL: []ACE{{Type: Allowed, Mask: ReadControl, SID: OwnerRights}}}
	allowed(t, AccessCheck(u, ownerRights, ReadControl, FileMapping), "OWNER RIGHTS grants READ_CONTROL")
	denied(t, AccessCheck(u, ownerRights, WriteDAC, FileMapping), "OWNER RIGHTS replaces the implied WRITE_DAC")
}

// "SID Attributes in an Access Token": a deny-only SID matches deny ACEs,
// never allow ACEs.
func TestDocDenyOnly(t *testing.T) {
	u := tok(me, Everyone)
	u.Groups = append(u.Groups, Group{SID: Administrators, Attr: DenyOnly})
	grant := &SD{Owner: LocalSystem, DACL: []ACE{{Type: Allowed, Mask: FileAllAccess, SID: Administrators}}}
	denied(t, AccessCheck(u, grant, FileReadData, FileMapping), "allow for a deny-only group")
	deny := &SD{Owner: LocalSystem, DACL: []ACE{
		{Type: Denied, Mask: FileWriteData, SID: Administrators},
		{Type: Allowed, Mask: FileAllAccess, SID: Everyone},
	}}
	denied(t, AccessCheck(u, deny, FileWriteData, FileMapping), "deny for a deny-only group")
	allowed(t, AccessCheck(u, deny, FileReadData, FileMapping), "other rights")
}

// "Restricted Tokens": two checks, one with the enabled SIDs and one with the
// restricting SIDs; both must allow the request. Deny ACEs count in the
// second check for a restricting SID, even one the token's groups lack
// (Forshaw, ch. 7).
func TestDocRestrictedToken(t *testing.T) {
	base := tok(me, Everyone, Users)
	r := Restrict(*base, 0, nil, []SID{capA, Everyone})
	userOnly := &SD{Owner: me, DACL: []ACE{{Type: Allowed, Mask: FileAllAccess, SID: me}}}
	denied(t, AccessCheck(&r, userOnly, FileReadData, FileMapping), "read of a file only the user may read")
	both := &SD{Owner: me, DACL: []ACE{
		{Type: Allowed, Mask: FileAllAccess, SID: me},
		{Type: Allowed, Mask: FileReadData, SID: capA},
	}}
	allowed(t, AccessCheck(&r, both, FileReadData, FileMapping), "read granted to user and restricting SID")
	denied(t, AccessCheck(&r, both, FileWriteData, FileMapping), "write granted to the user only")
	capOnly := &SD{Owner: me, DACL: []ACE{{Type: Allowed, Mask: FileAllAccess, SID: capA}}}
	denied(t, AccessCheck(&r, capOnly, FileReadData, FileMapping), "granted to the restricting SID only")
	denyCap := &SD{Owner: me, DACL: []ACE{
		{Type: Denied, Mask: FileWriteData, SID: capA},
		{Type: Allowed, Mask: FileAllAccess, SID: me},
		{Type: Allowed, Mask: FileAllAccess, SID: Everyone},
	}}
	denied(t, AccessCheck(&r, denyCap, FileWriteData, FileMapping), "deny for a restricting SID the groups lack")
	allowed(t, AccessCheck(base, denyCap, FileWriteData, FileMapping), "the unrestricted token is not affected")
}

// CreateRestrictedToken, WRITE_RESTRICTED: "restricting SIDs that are
// considered only when evaluating write access". Forshaw ch. 7: the second
// check runs only when the request has a write bit, and FILE_DELETE_CHILD is
// not one. openai/codex#32915 reproduced on Windows that this lets such a
// token delete a child whose own DACL denies its restricting SID.
func TestDocWriteRestricted(t *testing.T) {
	if got, want := FileMapping.WriteSet(), Mask(0x010D0116); got != want {
		t.Fatalf("file write set = %#x, want %#x", uint32(got), uint32(want))
	}
	if FileMapping.WriteSet()&FileDeleteChild != 0 {
		t.Fatal("FILE_DELETE_CHILD counted as a write right")
	}
	if got, want := ProcessMapping.WriteSet(), Mask(0x010D0BEA); got != want {
		t.Fatalf("process write set = %#x, want %#x", uint32(got), uint32(want))
	}
	base := tok(me, Everyone, Users)
	w := Restrict(*base, WriteRestrictedFlag, nil, []SID{capA, logon, Everyone})
	userFull := &SD{Owner: me, DACL: []ACE{{Type: Allowed, Mask: FileAllAccess, SID: me}}}
	allowed(t, AccessCheck(&w, userFull, FileReadData|FileReadAttributes|ReadControl, FileMapping), "read: normal pass only")
	denied(t, AccessCheck(&w, userFull, FileWriteData, FileMapping), "write needs a restricting SID")
	denied(t, AccessCheck(&w, userFull, Delete, FileMapping), "DELETE is a write right")
	allowed(t, AccessCheck(&w, userFull, FileDeleteChild, FileMapping), "FILE_DELETE_CHILD: normal pass only")
	// A request mixing read and write bits must pass the second check for all
	// of them.
	writeOnly := &SD{Owner: me, DACL: []ACE{
		{Type: Allowed, Mask: FileAllAccess, SID: me},
		{Type: Allowed, Mask: FileWriteData, SID: capA},
	}}
	allowed(t, AccessCheck(&w, writeOnly, FileWriteData, FileMapping), "write granted to the capability SID")
	denied(t, AccessCheck(&w, writeOnly, FileWriteData|FileReadData, FileMapping), "read+write, read not granted to a restricting SID")
	if g := Granted(&w, writeOnly, FileMapping); g&FileReadData == 0 || g&FileWriteData == 0 || g&FileAppendData != 0 {
		t.Errorf("Granted = %s", g)
	}
}

// Forshaw listing 7-19: a restricted token gets the owner's implied rights
// only if the owner SID is also a restricting SID.
func TestDocRestrictedOwner(t *testing.T) {
	base := tok(me, Everyone)
	sd := &SD{Owner: me, DACL: []ACE{{Type: Allowed, Mask: FileReadData, SID: Everyone}}}
	allowed(t, AccessCheck(base, sd, WriteDAC, FileMapping), "owner, unrestricted")
	w := Restrict(*base, WriteRestrictedFlag, nil, []SID{capA, Everyone})
	denied(t, AccessCheck(&w, sd, WriteDAC, FileMapping), "owner not restricting, write-restricted token")
	r := Restrict(*base, 0, nil, []SID{me, Everyone})
	allowed(t, AccessCheck(&r, sd, WriteDAC, FileMapping), "owner that is also a restricting SID")
}

// "Privilege Constants": SeTakeOwnershipPrivilege gives WRITE_OWNER without
// a DACL grant; CreateRestrictedToken's DISABLE_MAX_PRIVILEGE keeps only
// SeChangeNotifyPrivilege.
func TestDocPrivileges(t *testing.T) {
	admin := tok(me, Everyone)
	admin.Privileges = append(admin.Privileges, SeTakeOwnership, SeRestore, SeBackup)
	sd := &SD{Owner: LocalSystem, DACL: []ACE{{Type: Allowed, Mask: FileReadData, SID: Everyone}}}
	allowed(t, AccessCheck(admin, sd, WriteOwner, FileMapping), "take ownership by privilege")
	r := Restrict(*admin, DisableMaxPrivilege, nil, nil)
	if !slices.Equal(r.Privileges, []string{SeChangeNotify}) {
		t.Fatalf("privileges after DISABLE_MAX_PRIVILEGE = %v", r.Privileges)
	}
	denied(t, AccessCheck(&r, sd, WriteOwner, FileMapping), "take ownership without the privilege")
	denied(t, AccessCheck(admin, sd, AccessSystemSecurity, FileMapping), "ACCESS_SYSTEM_SECURITY without SeSecurityPrivilege")
}

// "Mandatory Integrity Control": an object without a label is medium with
// NO_WRITE_UP: a low-integrity token may read it, not write it.
func TestDocIntegrity(t *testing.T) {
	low := tok(me, Everyone)
	low.Integrity = LowIntegrity
	sd := &SD{Owner: me, DACL: []ACE{{Type: Allowed, Mask: FileAllAccess, SID: me}}}
	allowed(t, AccessCheck(low, sd, FileReadData, FileMapping), "low reads medium")
	denied(t, AccessCheck(low, sd, FileWriteData, FileMapping), "low writes medium")
	denied(t, AccessCheck(low, sd, Delete, FileMapping), "low deletes medium")
}

// "ACE Inheritance Rules" and "Automatic Propagation of Inheritable ACEs".
func TestDocInheritance(t *testing.T) {
	owner, group := me, me
	m := FileMapping
	ace := func(f AceFlags) ACE { return ACE{Type: Allowed, Flags: f, Mask: FileReadData, SID: jane} }
	cases := []struct {
		name      string
		parent    AceFlags
		file, dir []AceFlags // flags of the inherited ACEs
	}{
		{"OI|CI", ObjectInherit | ContainerInherit, []AceFlags{Inherited}, []AceFlags{ObjectInherit | ContainerInherit | Inherited}},
		{"CI", ContainerInherit, nil, []AceFlags{ContainerInherit | Inherited}},
		{"OI", ObjectInherit, []AceFlags{Inherited}, []AceFlags{ObjectInherit | InheritOnly | Inherited}},
		{"OI|CI|NP", ObjectInherit | ContainerInherit | NoPropagate, []AceFlags{Inherited}, []AceFlags{Inherited}},
		{"OI|NP", ObjectInherit | NoPropagate, []AceFlags{Inherited}, nil},
		{"OI|CI|IO", ObjectInherit | ContainerInherit | InheritOnly, []AceFlags{Inherited}, []AceFlags{ObjectInherit | ContainerInherit | Inherited}},
		{"none", 0, nil, nil},
	}
	flagsOf := func(aces []ACE) []AceFlags {
		var out []AceFlags
		for _, a := range aces {
			out = append(out, a.Flags)
		}
		return out
	}
	for _, c := range cases {
		parent := []ACE{ace(c.parent)}
		if got := flagsOf(InheritedACEs(parent, false, owner, group, m)); !slices.Equal(got, c.file) {
			t.Errorf("%s: file inherits %v, want %v", c.name, got, c.file)
		}
		if got := flagsOf(InheritedACEs(parent, true, owner, group, m)); !slices.Equal(got, c.dir) {
			t.Errorf("%s: directory inherits %v, want %v", c.name, got, c.dir)
		}
	}
	// The parent's inherit-only ACE does not count for the parent itself.
	p := &SD{Owner: LocalSystem, DACL: []ACE{ace(ObjectInherit | ContainerInherit | InheritOnly)}}
	denied(t, AccessCheck(tok(jane), p, FileReadData, m), "inherit-only ACE on the object itself")

	// CREATOR OWNER with a generic mask: the child directory gets an
	// effective ACE for its owner, mapped, and an inherit-only copy.
	co := []ACE{{Type: Allowed, Flags: ObjectInherit | ContainerInherit | InheritOnly, Mask: GenericAll, SID: CreatorOwner}}
	got := InheritedACEs(co, true, jane, jane, m)
	want := []ACE{
		{Type: Allowed, Flags: Inherited, Mask: FileAllAccess, SID: jane},
		{Type: Allowed, Flags: ObjectInherit | ContainerInherit | InheritOnly | Inherited, Mask: GenericAll, SID: CreatorOwner},
	}
	if !slices.Equal(got, want) {
		t.Errorf("CREATOR OWNER on a directory: %v, want %v", got, want)
	}
	if got := InheritedACEs(co, false, jane, jane, m); !slices.Equal(got, []ACE{want[0]}) {
		t.Errorf("CREATOR OWNER on a file: %v", got)
	}

	// Nothing to inherit: the creator's default DACL.
	creator := tok(jane)
	creator.DefaultDACL = []ACE{{Type: Allowed, Mask: GenericAll, SID: jane}}
	sd := NewSD(&SD{DACL: []ACE{ace(0)}}, creator, false, m)
	if len(sd.DACL) != 1 || sd.DACL[0] != (ACE{Type: Allowed, Mask: FileAllAccess, SID: jane}) || sd.Owner != jane {
		t.Errorf("default DACL not used: %+v", sd)
	}
}

// KB310316: a file moved within a volume keeps its descriptor; only a later
// propagation from its new parent replaces the inherited part. A protected
// DACL is never replaced.
func TestDocMoveKeepsDescriptor(t *testing.T) {
	fs := New(me)
	fs.AddVolume("C:", false, false, ACE{Type: Allowed, Flags: ObjectInherit | ContainerInherit, Mask: FileAllAccess, SID: me})
	must(t, fs.Mkdir(`C:\open`, ACE{Type: Allowed, Flags: ObjectInherit | ContainerInherit, Mask: FileAllAccess, SID: Everyone}))
	must(t, fs.Mkdir(`C:\closed`, ACE{Type: Denied, Flags: ObjectInherit | ContainerInherit | InheritOnly, Mask: FileWriteData, SID: Everyone}))
	must(t, fs.WriteFile(`C:\open\f`))
	u := tok(me, Everyone)
	must(t, fs.Rename(u, `C:\open\f`, `C:\closed\f`, false))
	other := tok(jane, Everyone)
	allowed(t, fs.Write(other, `C:\closed\f`), "moved file, old descriptor")
	must(t, fs.Propagate(`C:\closed`, false))
	denied(t, fs.Write(other, `C:\closed\f`), "after propagation")

	must(t, fs.WriteFile(`C:\open\g`))
	sd, _ := fs.GetSD(`C:\open\g`, true)
	sd.Protected = true
	must(t, fs.PutSD(`C:\open\g`, sd, true))
	must(t, fs.Rename(u, `C:\open\g`, `C:\closed\g`, false))
	must(t, fs.Propagate(`C:\closed`, false))
	allowed(t, fs.Write(other, `C:\closed\g`), "protected DACL after propagation")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// KB238018, MS-FSA 2.1.5.1.2.1 and DeleteFileW: DELETE is granted by the
// object, or by FILE_DELETE_CHILD on the parent "irrespective of whether its
// DACL grants DELETE ... or denies through access denied ACE"; likewise
// FILE_READ_ATTRIBUTES through FILE_LIST_DIRECTORY. A rename also needs the
// add right on the destination, and DELETE on a file it replaces.
func TestDocDeleteAndRename(t *testing.T) {
	fs := New(LocalSystem)
	fs.AddVolume("C:", false, false)
	must(t, fs.Mkdir(`C:\d`, ACE{Type: Allowed, Mask: FileDeleteChild | FileListDirectory | FileAddFile, SID: jane}))
	must(t, fs.WriteFile(`C:\d\f`, ACE{Type: Denied, Mask: Delete | FileReadAttributes, SID: jane}))
	u := tok(jane, Everyone)
	allowed(t, fs.Open(u, `C:\d\f`, FileReadAttributes, false), "read attributes through the parent")
	denied(t, fs.Read(u, `C:\d\f`), "read data (not granted)")
	allowed(t, fs.Rename(u, `C:\d\f`, `C:\d\g`, false), "rename within the directory")
	allowed(t, fs.Delete(u, `C:\d\g`), "delete through FILE_DELETE_CHILD despite a deny-DELETE")

	must(t, fs.Mkdir(`C:\e`, ACE{Type: Allowed, Mask: FileDeleteChild, SID: jane}))
	must(t, fs.WriteFile(`C:\e\f`))
	denied(t, fs.Rename(u, `C:\e\f`, `C:\e\g`, false), "rename without FILE_ADD_FILE on the destination")
	allowed(t, fs.Rename(u, `C:\e\f`, `C:\d\f`, false), "rename into a directory that grants FILE_ADD_FILE")
	must(t, fs.WriteFile(`C:\d\keep`, ACE{Type: Denied, Mask: Delete, SID: Everyone}))
	must(t, fs.Mkdir(`C:\x`, ACE{Type: Allowed, Mask: FileAddFile, SID: jane}))
	must(t, fs.WriteFile(`C:\x\keep`))
	denied(t, fs.Rename(u, `C:\d\f`, `C:\x\keep`, true), "replace a file neither it nor its parent lets go")
	allowed(t, fs.Rename(u, `C:\d\f`, `C:\d\keep`, true), "replace a file whose parent grants FILE_DELETE_CHILD")
	if err := fs.Rename(u, `C:\d\keep`, `C:\d\new`, false); err != nil {
		t.Errorf("rename the replacing file: %v", err)
	}
}

// openai/codex#32915, reproduced on a real Windows runner: a write-restricted
// token deletes a file its restricting SID is denied DELETE on, through the
// user's Full Control on the parent.
func TestFieldDeleteChildBypass(t *testing.T) {
	fs := New(me)
	fs.AddVolume("C:", false, false, ACE{Type: Allowed, Flags: ObjectInherit | ContainerInherit, Mask: FileAllAccess, SID: me})
	must(t, fs.Mkdir(`C:\ws`, ACE{Type: Allowed, Flags: ObjectInherit | ContainerInherit, Mask: FileMapping.Read | FileMapping.Write | FileMapping.Execute | Delete, SID: capA}))
	must(t, fs.Mkdir(`C:\ws\.git`))
	must(t, fs.WriteFile(`C:\ws\.git\config`, ACE{Type: Denied, Mask: FileWriteData | FileAppendData | Delete, SID: capA}))
	user := StandardUser(me, logon, false)
	w := Restrict(user, DisableMaxPrivilege|LUAToken|WriteRestrictedFlag, nil, []SID{capA, logon, Everyone})
	denied(t, fs.Write(&w, `C:\ws\.git\config`), "write the protected file")
	allowed(t, fs.Delete(&w, `C:\ws\.git\config`), "delete it through the parent")
	allowed(t, fs.Create(&w, `C:\ws\.git\config`, false), "and create it again")
}

// The 2015 hard-link mitigation: a sandboxed caller needs
// FILE_WRITE_ATTRIBUTES on the file it links.
func TestDocHardLinkMitigation(t *testing.T) {
	fs := New(me)
	fs.AddVolume("C:", false, false, ACE{Type: Allowed, Flags: ObjectInherit | ContainerInherit, Mask: FileAllAccess, SID: me})
	must(t, fs.Mkdir(`C:\ws`, ACE{Type: Allowed, Flags: ObjectInherit | ContainerInherit, Mask: FileAllAccess, SID: capA}))
	must(t, fs.WriteFile(`C:\secret`))
	user := StandardUser(me, logon, false)
	w := Restrict(user, WriteRestrictedFlag, nil, []SID{capA, Everyone})
	denied(t, fs.HardLink(&w, `C:\secret`, `C:\ws\link`), "sandbox links an outside file")
	allowed(t, fs.HardLink(&user, `C:\secret`, `C:\ws\link`), "the user links it")
	fs.Options.HardLinkNeedsWriteAttributes = false
	allowed(t, fs.HardLink(&w, `C:\secret`, `C:\ws\link2`), "without the mitigation")
	if info, _ := fs.Stat(`C:\ws\link2`, false); info.Links != 3 {
		t.Errorf("links = %d, want 3", info.Links)
	}
}

// Win32 path forms: case, 8.3 names, streams, trailing dots and spaces
// ("File path formats on Windows systems"), \\?\ taken literally.
func TestDocPathForms(t *testing.T) {
	fs := New(me)
	fs.AddVolume("C:", false, false, ACE{Type: Allowed, Flags: ObjectInherit | ContainerInherit, Mask: FileAllAccess, SID: me})
	must(t, fs.WriteFile(`C:\Work\.git\config`))
	must(t, fs.ShortName(`C:\Work\.git`, "GIT~1"))
	base, _ := fs.Stat(`C:\Work\.git\config`, true)
	for _, p := range []string{
		`c:\work\.GIT\CONFIG`, `C:\Work\GIT~1\config`, `C:\Work\.git\config:evil`, `C:\Work\.git\config::$DATA`,
		`C:\Work\.git\config.`, `C:\Work\.git\config . .`, `C:\Work\.git.\config`, `C:/Work//.git/./x/../config`,
		`\\?\C:\Work\.git\config`,
	} {
		info, err := fs.Stat(p, true)
		if err != nil || !info.Exists || info.ID != base.ID {
			t.Errorf("%s does not name the same object (%+v, %v)", p, info, err)
		}
	}
	for _, p := range []string{`\\?\C:\Work\.git\config.`, `C:\Work\.git \config`, `\\?\C:\Work\GIT~1.\config`} {
		if info, _ := fs.Stat(p, true); info.Exists {
			t.Errorf("%s names the object, want another name", p)
		}
	}
}

// Junctions are followed on the way and, unless the open asks for the
// reparse point, at the end; deleting one deletes the link.
func TestDocReparsePoints(t *testing.T) {
	fs := New(me)
	fs.AddVolume("C:", false, false, ACE{Type: Allowed, Flags: ObjectInherit | ContainerInherit, Mask: FileAllAccess, SID: me})
	must(t, fs.WriteFile(`C:\real\f`))
	must(t, fs.MakeLink(`C:\j`, `C:\real`, false))
	real, _ := fs.Stat(`C:\real\f`, true)
	via, _ := fs.Stat(`C:\j\f`, true)
	if via.ID != real.ID || via.Final != `C:\real\f` {
		t.Fatalf("through the junction: %+v, want %+v", via, real)
	}
	u := tok(me, Everyone)
	must(t, fs.Delete(u, `C:\j`))
	if info, _ := fs.Stat(`C:\real\f`, true); !info.Exists {
		t.Fatal("deleting the junction deleted its target's content")
	}
	denied(t, fs.Symlink(u, `C:\s`, `C:\real`, true), "symbolic link without the privilege")
}

// Without SeChangeNotifyPrivilege every directory on the way must grant
// FILE_TRAVERSE ("File Security and Access Rights").
func TestDocTraverse(t *testing.T) {
	fs := New(LocalSystem)
	fs.AddVolume("C:", false, false, ACE{Type: Allowed, Flags: ObjectInherit | ContainerInherit, Mask: FileAllAccess, SID: Everyone})
	must(t, fs.Mkdir(`C:\a`))
	must(t, fs.PutSD(`C:\a`, &SD{Owner: LocalSystem, Protected: true, DACL: []ACE{{Type: Allowed, Mask: FileListDirectory, SID: Everyone}}}, true))
	must(t, fs.WriteFile(`C:\a\f`, ACE{Type: Allowed, Mask: FileAllAccess, SID: Everyone}))
	u := tok(jane, Everyone)
	allowed(t, fs.Read(u, `C:\a\f`), "with bypass-traverse")
	u.Privileges = nil
	denied(t, fs.Read(u, `C:\a\f`), "without bypass-traverse")
}

// A remote volume is checked with the user's network identity, so the
// restricting SIDs do not confine writes there.
func TestRemoteIgnoresRestrictions(t *testing.T) {
	fs := New(me)
	fs.AddVolume(`\\srv\share`, true, false, ACE{Type: Allowed, Flags: ObjectInherit | ContainerInherit, Mask: FileAllAccess, SID: me})
	must(t, fs.WriteFile(`\\srv\share\doc`))
	user := StandardUser(me, logon, false)
	w := Restrict(user, WriteRestrictedFlag, nil, []SID{capA, Everyone})
	allowed(t, fs.Write(&w, `\\srv\share\doc`), "remote write with a write-restricted token")
	fs.Options.RemoteUsesNetworkIdentity = false
	denied(t, fs.Write(&w, `\\srv\share\doc`), "the same check done locally")
}

// "CreateProcessAsUser": a process gets its token's default DACL. With the
// logon SID in it, another write-restricted token of the same session passes
// both checks; with a per-run SID instead it does not. PROCESS_VM_READ is a
// read right, decided by the normal pass alone.
func TestDocProcessDefaultDACL(t *testing.T) {
	user := StandardUser(me, logon, false)
	a := Restrict(user, WriteRestrictedFlag, nil, []SID{capA, logon, Everyone})
	a.DefaultDACL = []ACE{{Type: Allowed, Mask: GenericAll, SID: logon}, {Type: Allowed, Mask: GenericAll, SID: LocalSystem}}
	b := Restrict(user, WriteRestrictedFlag, nil, []SID{capB, logon, Everyone})
	pa := NewProcess(&a)
	inject := ProcessVMWrite | ProcessCreateThread | ProcessVMOperation
	allowed(t, pa.Open(&b, inject), "sandbox B injects into A (logon SID in A's default DACL)")
	const runA SID = "S-1-5-21-9-9-9-1"
	a2 := Restrict(user, WriteRestrictedFlag, nil, []SID{capA, runA, logon, Everyone})
	a2.DefaultDACL = []ACE{{Type: Allowed, Mask: GenericAll, SID: me}, {Type: Allowed, Mask: GenericAll, SID: runA}, {Type: Allowed, Mask: GenericAll, SID: LocalSystem}}
	pa2 := NewProcess(&a2)
	denied(t, pa2.Open(&b, inject), "sandbox B injects into A (per-run SID)")
	denied(t, pa2.Open(&b, ProcessDupHandle), "duplicate A's handles")
	allowed(t, pa2.Open(&b, ProcessVMRead|ProcessQueryInformation), "read A's memory (a read right)")
	allowed(t, pa2.Open(&a2, inject), "A's own processes")
	allowed(t, pa2.Open(&user, inject), "the user's own tools")
	// The user's own processes, with Windows' default DACL for the token.
	pu := NewProcess(&user)
	denied(t, pu.Open(&a2, inject), "the sandbox injects into the user's processes")
	allowed(t, pu.Open(&a2, ProcessVMRead), "the sandbox reads the user's processes' memory")
	allowed(t, pu.Open(&a2, ProcessTerminate), "the sandbox ends the user's processes (an execute right)")
}
