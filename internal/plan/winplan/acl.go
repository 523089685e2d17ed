package winplan

import (
	"fmt"
	"strings"
)

// Access rights for files and directories (winnt.h). Directory rights share
// the bits of the file rights: FILE_ADD_FILE is FILE_WRITE_DATA,
// FILE_ADD_SUBDIRECTORY is FILE_APPEND_DATA, FILE_TRAVERSE is FILE_EXECUTE.
const (
	FileReadData        uint32 = 0x0001
	FileWriteData       uint32 = 0x0002
	FileAppendData      uint32 = 0x0004
	FileReadEA          uint32 = 0x0008
	FileWriteEA         uint32 = 0x0010
	FileExecute         uint32 = 0x0020
	FileDeleteChild     uint32 = 0x0040
	FileReadAttributes  uint32 = 0x0080
	FileWriteAttributes uint32 = 0x0100
	Delete              uint32 = 0x00010000
	ReadControl         uint32 = 0x00020000
	WriteDAC            uint32 = 0x00040000
	WriteOwner          uint32 = 0x00080000
	Synchronize         uint32 = 0x00100000

	GenericAll     uint32 = 0x10000000
	GenericExecute uint32 = 0x20000000
	GenericWrite   uint32 = 0x40000000
	GenericRead    uint32 = 0x80000000

	FileGenericRead    = ReadControl | FileReadData | FileReadAttributes | FileReadEA | Synchronize
	FileGenericWrite   = ReadControl | FileWriteData | FileWriteAttributes | FileWriteEA | FileAppendData | Synchronize
	FileGenericExecute = ReadControl | FileReadAttributes | FileExecute | Synchronize
	FileAllAccess      = 0x000F0000 | Synchronize | 0x1FF
)

// The masks cordon grants and denies.
const (
	// RootAllowMask is granted to a writable root's capability SID:
	// read, write, execute and DELETE on each object, so that atomic renames
	// (os.replace, go build) work. It leaves out FILE_DELETE_CHILD, which
	// would let the sandbox delete or rename a protected child through its
	// parent whatever the child's own ACEs say; WRITE_DAC and WRITE_OWNER, so
	// the sandbox cannot rewrite the ACLs cordon relies on.
	RootAllowMask = FileGenericRead | FileGenericWrite | FileGenericExecute | Delete

	// DenyWriteMask is denied to capability SIDs on protected paths: every
	// right that changes the object, its attributes, its children or its
	// ACL. It leaves out READ_CONTROL and SYNCHRONIZE (part of
	// FILE_GENERIC_WRITE) so that reads keep working.
	DenyWriteMask = FileWriteData | FileAppendData | FileWriteEA | FileWriteAttributes |
		FileDeleteChild | Delete | WriteDAC | WriteOwner

	// DenyDeleteMask is denied on the directories between a writable root
	// and a protected path, so that the sandbox cannot rename one of them
	// away and put a forged copy of the protected path in its place.
	DenyDeleteMask = Delete

	// NullDeviceMask is what the sandbox needs on \\.\NUL for redirections to
	// it to work.
	NullDeviceMask = FileGenericRead | FileGenericWrite

	// writeRights are the rights whose grant to Everyone makes a directory a
	// hole in the sandbox (the rights the Codex sandbox's audit looks for).
	writeRights = FileWriteData | FileAppendData | FileWriteEA | FileWriteAttributes
)

// ACE flags (AceFlags in ACE_HEADER).
const (
	ObjectInherit    uint8 = 0x01
	ContainerInherit uint8 = 0x02
	NoPropagate      uint8 = 0x04
	InheritOnly      uint8 = 0x08
	Inherited        uint8 = 0x10

	// InheritAll makes an ACE on a directory apply to it and to every file
	// and directory below it.
	InheritAll = ObjectInherit | ContainerInherit
)

// AceType says whether an ACE allows or denies. Other covers every ACE type
// the backend neither writes nor reasons about (object ACEs, callback ACEs,
// audit and label ACEs); such ACEs are kept and skipped.
type AceType uint8

const (
	Allow AceType = iota + 1
	Deny
	Other
)

func (t AceType) String() string {
	switch t {
	case Allow:
		return "allow"
	case Deny:
		return "deny"
	default:
		return "other"
	}
}

// ACE is one access-control entry.
type ACE struct {
	Type  AceType
	Flags uint8
	Mask  uint32
	SID   SID
	// Raw is the whole binary ACE of an Other ACE, kept so that a DACL read
	// and written back loses nothing.
	Raw string
}

func (a ACE) String() string {
	return fmt.Sprintf("%s %s mask=%#x flags=%#x", a.Type, a.SID, a.Mask, a.Flags)
}

// DACL is a discretionary ACL as read from an object, ACEs in order. A NULL
// DACL (Null) grants everyone everything and is distinct from an empty DACL,
// which grants nothing.
type DACL struct {
	Null bool
	ACEs []ACE
	// Protected is SE_DACL_PROTECTED: the object inherits nothing from its
	// parent.
	Protected bool
	// Owner and Group are the object's owner and primary group, as read
	// (inheritance replaces CREATOR OWNER and CREATOR GROUP by them); a
	// DACL write does not change them.
	Owner, Group SID
}

// withACE returns d with want merged in the way SetEntriesInAcl merges a
// GRANT_ACCESS or DENY_ACCESS entry: an explicit ACE of the same type, SID
// and flags gets want's rights added; otherwise a deny goes after the
// explicit denies at the front, an allow after the explicit ACEs, and the
// inherited ACEs stay behind them, as read.
func (d DACL) withACE(want ACE) DACL {
	explicit, inherited := d.split()
	for i, a := range explicit {
		if a.Type == want.Type && a.Type != Other && strings.EqualFold(string(a.SID), string(want.SID)) && a.Flags == want.Flags {
			explicit[i].Mask |= want.Mask
			return DACL{ACEs: append(explicit, inherited...), Protected: d.Protected, Owner: d.Owner, Group: d.Group}
		}
	}
	i := len(explicit)
	if want.Type == Deny {
		i = 0
		for i < len(explicit) && explicit[i].Type == Deny {
			i++
		}
	}
	explicit = append(explicit[:i], append([]ACE{want}, explicit[i:]...)...)
	return DACL{ACEs: append(explicit, inherited...), Protected: d.Protected, Owner: d.Owner, Group: d.Group}
}

// withoutACE returns d without the rights cordon added with a: every
// explicit ACE of a's type, SID and flags loses a's rights, and is dropped
// when none are left. Unlike revoking every ACE of the SID, this leaves
// other ACEs for the same SID alone, which matters for SIDs cordon does not
// own (the user's). changed reports whether anything was removed.
func (d DACL) withoutACE(a ACE) (out DACL, changed bool) {
	out = DACL{Null: d.Null, Protected: d.Protected, Owner: d.Owner, Group: d.Group}
	for _, x := range d.ACEs {
		if x.Flags&Inherited == 0 && x.Type == a.Type && x.Type != Other && x.Flags == a.Flags &&
			strings.EqualFold(string(x.SID), string(a.SID)) && mapGeneric(x.Mask)&a.Mask != 0 {
			changed = true
			x.Mask = mapGeneric(x.Mask) &^ a.Mask
			if x.Mask == 0 {
				continue
			}
		}
		out.ACEs = append(out.ACEs, x)
	}
	return out, changed
}

// split returns copies of d's explicit and inherited ACEs.
func (d DACL) split() (explicit, inherited []ACE) {
	for _, a := range d.ACEs {
		if a.Flags&Inherited != 0 {
			inherited = append(inherited, a)
		} else {
			explicit = append(explicit, a)
		}
	}
	return explicit, inherited
}

// mapGeneric turns the generic bits of a mask into the file rights they
// stand for, as MapGenericMask does with the file generic mapping.
func mapGeneric(mask uint32) uint32 {
	if mask&GenericRead != 0 {
		mask |= FileGenericRead
	}
	if mask&GenericWrite != 0 {
		mask |= FileGenericWrite
	}
	if mask&GenericExecute != 0 {
		mask |= FileGenericExecute
	}
	if mask&GenericAll != 0 {
		mask |= FileAllAccess
	}
	return mask &^ (GenericRead | GenericWrite | GenericExecute | GenericAll)
}

// hasExplicit reports whether d holds an explicit ACE that does at least what
// want does: same type and SID, a mask that includes want's, and the same
// reach (it applies to the object itself, and is inherited at least as far).
// Inherited ACEs do not count: they vanish when the ACE they come from is
// revoked, so only an explicit ACE keeps the promise on its own.
func (d DACL) hasExplicit(want ACE) bool {
	for _, a := range d.ACEs {
		if a.Type != want.Type || a.SID != want.SID || a.Flags&(Inherited|InheritOnly) != 0 {
			continue
		}
		if a.Flags&NoPropagate != want.Flags&NoPropagate {
			continue
		}
		if a.Flags&InheritAll&want.Flags != want.Flags&InheritAll {
			continue
		}
		if mapGeneric(a.Mask)&want.Mask == want.Mask {
			return true
		}
	}
	return false
}

// effective returns the rights an access check grants on an object with this
// DACL to a token holding exactly the SIDs in sids: each right is decided by
// the first applicable ACE that names it, deny or allow. This is the
// restricted half of a write-restricted token's check when sids are its
// restricting SIDs.
func (d DACL) effective(sids ...SID) uint32 {
	if d.Null {
		return FileAllAccess
	}
	var allowed, decided uint32
	for _, a := range d.ACEs {
		if a.Flags&InheritOnly != 0 || (a.Type != Allow && a.Type != Deny) || !containsSID(sids, a.SID) {
			continue
		}
		m := mapGeneric(a.Mask) &^ decided
		if a.Type == Allow {
			allowed |= m
		}
		decided |= m
	}
	return allowed
}

func containsSID(sids []SID, s SID) bool {
	for _, x := range sids {
		if strings.EqualFold(string(x), string(s)) {
			return true
		}
	}
	return false
}
