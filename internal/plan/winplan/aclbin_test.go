package winplan

import (
	"bytes"
	"slices"
	"testing"
)

// Known encodings from MS-DTYP 2.4.2.2 (a SID is revision 1, the count of
// sub-authorities, a 6-byte big-endian identifier authority and the
// sub-authorities little-endian).
func TestSIDBytes(t *testing.T) {
	cases := []struct {
		sid  SID
		want []byte
	}{
		{Everyone, []byte{1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}},
		{"S-1-5-32-544", []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0}},
		{"S-1-5-21-4294967295-1-2-1001", []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 2, 0, 0, 0, 0xe9, 3, 0, 0}},
	}
	for _, c := range cases {
		b, err := EncodeSID(c.sid)
		if err != nil || !bytes.Equal(b, c.want) {
			t.Errorf("EncodeSID(%s) = % x, %v; want % x", c.sid, b, err, c.want)
		}
		back, n, err := DecodeSID(append(b, 0xAA))
		if err != nil || back != c.sid || n != len(b) {
			t.Errorf("DecodeSID(% x) = %s, %d, %v", b, back, n, err)
		}
	}
	for _, bad := range []SID{"", "S-1", "S-2-5-1", "S-1-x-1", "S-1-5-4294967296", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"} {
		if _, err := EncodeSID(bad); err == nil {
			t.Errorf("EncodeSID(%q) accepted", bad)
		}
	}
	if _, _, err := DecodeSID([]byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0}); err == nil {
		t.Error("a truncated SID was decoded")
	}
}

func TestACLBytesRoundTrip(t *testing.T) {
	// An object ACE (type 5, ACCESS_ALLOWED_OBJECT_ACE) cordon does not
	// reason about must survive a read and a write byte for byte.
	objectACE := string([]byte{5, 0x12, 20, 0, 0xff, 1, 0x1f, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1})
	aces := []ACE{
		{Type: Deny, Flags: 0, Mask: FileDeleteChild, SID: testUser},
		{Type: Allow, Flags: InheritAll, Mask: RootAllowMask, SID: "S-1-5-21-1-2-3-4"},
		{Type: Other, Flags: 0x12, Mask: 0x1f01ff, Raw: objectACE},
		{Type: Allow, Flags: InheritAll | Inherited, Mask: FileAllAccess, SID: LocalSystem},
	}
	b, err := EncodeACL(aces)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != aclRevisionDS || int(b[2])|int(b[3])<<8 != len(b) || b[4] != 4 {
		t.Fatalf("header % x: want revision 4 (an object ACE), size %d, 4 ACEs", b[:8], len(b))
	}
	back, err := DecodeACL(append(b, 0, 0, 0, 0))
	if err != nil || !slices.Equal(back, aces) {
		t.Fatalf("DecodeACL = %+v, %v; want %+v", back, err, aces)
	}
	if b2, _ := EncodeACL(back); !bytes.Equal(b2, b) {
		t.Fatal("a second encoding differs")
	}
	if b, _ := EncodeACL(nil); !bytes.Equal(b, []byte{2, 0, 8, 0, 0, 0, 0, 0}) {
		t.Fatalf("empty ACL = % x", b)
	}
	for _, bad := range [][]byte{{2, 0}, {2, 0, 9, 0, 0, 0, 0, 0}, {2, 0, 12, 0, 1, 0, 0, 0, 0, 0, 3, 0}} {
		if _, err := DecodeACL(bad); err == nil {
			t.Errorf("DecodeACL(% x) accepted", bad)
		}
	}
	if _, err := EncodeACL([]ACE{{Type: Other}}); err == nil {
		t.Error("an Other ACE without its bytes was encoded")
	}
}

// withACE merges like SetEntriesInAcl; withoutACE takes back exactly what
// was merged in, and nothing the user had for the same SID.
func TestMergeAndRemove(t *testing.T) {
	userOwn := ACE{Type: Allow, Flags: InheritAll, Mask: FileAllAccess, SID: testUser}
	userDeny := ACE{Type: Deny, Flags: 0, Mask: FileWriteEA, SID: testUser}
	inherited := ACE{Type: Allow, Flags: InheritAll | Inherited, Mask: FileAllAccess, SID: LocalSystem}
	before := DACL{ACEs: []ACE{userDeny, userOwn, inherited}}
	guard := ACE{Type: Deny, Flags: 0, Mask: FileDeleteChild, SID: testUser}
	capAllow := ACE{Type: Allow, Flags: InheritAll, Mask: RootAllowMask, SID: "S-1-5-21-1-2-3-4"}
	after := before.withACE(guard).withACE(capAllow)
	want := []ACE{{Type: Deny, Mask: FileWriteEA | FileDeleteChild, SID: testUser}, userOwn, capAllow, inherited}
	if !slices.Equal(after.ACEs, want) {
		t.Fatalf("merged = %v, want %v", after.ACEs, want)
	}
	denyCap := ACE{Type: Deny, Flags: InheritAll, Mask: DenyWriteMask, SID: "S-1-5-21-1-2-3-4"}
	if got := after.withACE(denyCap).ACEs; got[1] != denyCap {
		t.Fatalf("a new deny goes after the explicit denies: %v", got)
	}
	restored, changed := after.withoutACE(capAllow)
	restored, changed2 := restored.withoutACE(guard)
	if !changed || !changed2 || !slices.Equal(restored.ACEs, before.ACEs) {
		t.Fatalf("removed = %v (%t, %t), want %v", restored.ACEs, changed, changed2, before.ACEs)
	}
	if _, changed := before.withoutACE(guard); changed {
		t.Fatal("removing an ACE that is not there changed the DACL")
	}
	// The inherited copy of an ACE is never removed: it goes with its parent.
	if got, _ := (DACL{ACEs: []ACE{{Type: Deny, Flags: Inherited, Mask: FileDeleteChild, SID: testUser}}}).withoutACE(guard); len(got.ACEs) != 1 {
		t.Fatal("an inherited ACE was removed")
	}
}
