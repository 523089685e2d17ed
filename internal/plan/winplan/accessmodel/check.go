package accessmodel

import (
	"errors"
	"fmt"
)

// AceType is an ACE's type; the model knows the two basic ones
// (ACCESS_ALLOWED_ACE_TYPE 0, ACCESS_DENIED_ACE_TYPE 1).
type AceType uint8

const (
	Allowed AceType = 0
	Denied  AceType = 1
)

// AceFlags are ACE_HEADER.AceFlags.
type AceFlags uint8

const (
	ObjectInherit    AceFlags = 0x01
	ContainerInherit AceFlags = 0x02
	NoPropagate      AceFlags = 0x04
	InheritOnly      AceFlags = 0x08
	Inherited        AceFlags = 0x10

	inheritFlags = ObjectInherit | ContainerInherit | NoPropagate | InheritOnly
)

// ACE is one access-control entry.
type ACE struct {
	Type  AceType
	Flags AceFlags
	Mask  Mask
	SID   SID
}

func (a ACE) String() string {
	t := "allow"
	if a.Type == Denied {
		t = "deny"
	}
	return fmt.Sprintf("%s %s %s flags=%#x", t, a.SID, a.Mask, uint8(a.Flags))
}

// Label policies of a mandatory label ACE.
const (
	NoWriteUp   uint8 = 0x1
	NoReadUp    uint8 = 0x2
	NoExecuteUp uint8 = 0x4
)

// SD is a security descriptor as the model needs it.
type SD struct {
	Owner, Group SID
	// NullDACL: the descriptor has no DACL, which grants everyone
	// everything (MS-DTYP 2.5.3.2); distinct from an empty DACL.
	NullDACL bool
	DACL     []ACE
	// Protected is SE_DACL_PROTECTED: inheritable ACEs of the parent do
	// not reach this DACL.
	Protected bool
	// Label is the mandatory label's level, 0 for none (which counts as
	// medium with NO_WRITE_UP); LabelPolicy its policy bits.
	Label       Level
	LabelPolicy uint8
}

// Clone returns a deep copy of sd.
func (sd *SD) Clone() *SD {
	if sd == nil {
		return nil
	}
	c := *sd
	c.DACL = append([]ACE(nil), sd.DACL...)
	return &c
}

// ErrAccessDenied is STATUS_ACCESS_DENIED.
var ErrAccessDenied = errors.New("access denied")

// ErrPrivilegeNotHeld is STATUS_PRIVILEGE_NOT_HELD.
var ErrPrivilegeNotHeld = errors.New("a required privilege is not held")

// Denial says which part of the check refused, for failure messages.
type Denial struct {
	Desired, Missing Mask
	Stage            string // "integrity", "normal pass", "restricted pass", "privilege"
}

func (d *Denial) Error() string {
	return fmt.Sprintf("access denied in the %s: wanted %s, not granted %s", d.Stage, d.Desired, d.Missing)
}

func (d *Denial) Unwrap() error {
	if d.Stage == "privilege" {
		return ErrPrivilegeNotHeld
	}
	return ErrAccessDenied
}

// AccessCheck decides whether t is granted every right in desired on an
// object with descriptor sd and generic mapping m, in the order of Forshaw's
// reference implementation (ch. 7, Get-PSGrantedAccess), which follows the
// kernel's SeAccessCheck:
//
//  1. the mandatory integrity check;
//  2. privileges: SeSecurityPrivilege grants ACCESS_SYSTEM_SECURITY,
//     SeTakeOwnershipPrivilege and SeRelabelPrivilege grant WRITE_OWNER;
//  3. owner rights (MS-DTYP 2.5.3.2): the owner gets READ_CONTROL and
//     WRITE_DAC, unless the DACL holds an OWNER RIGHTS (S-1-3-4) ACE; for a
//     restricted token only if the owner is also a restricting SID
//     (listing 7-19);
//  4. the DACL walk with the token's user and groups;
//  5. for a restricted token, the same walk over what remained after step 3,
//     with the restricting SIDs alone, deny ACEs included (listing 7-21);
//     for a WRITE_RESTRICTED token only when that remainder holds a bit of
//     m.WriteSet().
//
// It returns nil when access is granted and a *Denial otherwise.
// MAXIMUM_ALLOWED is not supported: use [Granted].
func AccessCheck(t *Token, sd *SD, desired Mask, m GenericMapping) error {
	if desired&MaximumAllowed != 0 {
		return fmt.Errorf("AccessCheck: MAXIMUM_ALLOWED is not modelled; use Granted")
	}
	desired = m.Map(desired)
	if desired == 0 {
		return &Denial{Desired: desired, Stage: "normal pass"}
	}
	if miss := mandatory(t, sd, desired, m); miss != 0 {
		return &Denial{Desired: desired, Missing: miss, Stage: "integrity"}
	}
	remaining := desired
	if remaining&AccessSystemSecurity != 0 && t.HasPrivilege(SeSecurity) {
		remaining &^= AccessSystemSecurity
	}
	if remaining&WriteOwner != 0 && (t.HasPrivilege(SeTakeOwnership) || t.HasPrivilege(SeRelabel)) {
		remaining &^= WriteOwner
	}
	if ownerRightsApply(t, sd) {
		remaining &^= ReadControl | WriteDAC
	}
	if remaining == 0 {
		return nil
	}
	if remaining&AccessSystemSecurity != 0 {
		return &Denial{Desired: desired, Missing: AccessSystemSecurity, Stage: "privilege"}
	}
	if left := daclPass(t, sd, remaining, m, false); left != 0 {
		return &Denial{Desired: desired, Missing: left, Stage: "normal pass"}
	}
	if t.IsRestricted() && (!t.WriteRestricted || remaining&m.WriteSet() != 0) {
		if left := daclPass(t, sd, remaining, m, true); left != 0 {
			return &Denial{Desired: desired, Missing: left, Stage: "restricted pass"}
		}
	}
	return nil
}

// Granted returns every right r of m.All and the standard rights for which
// AccessCheck(t, sd, r) alone succeeds: what some request for it gets. For a
// write-restricted token that can be more than a single MAXIMUM_ALLOWED
// request would get, which is what a sandbox has to assume.
func Granted(t *Token, sd *SD, m GenericMapping) Mask {
	var g Mask
	for bit := Mask(1); bit != 0 && bit <= AccessSystemSecurity; bit <<= 1 {
		if (m.All|AccessSystemSecurity)&bit == 0 {
			continue
		}
		if AccessCheck(t, sd, bit, m) == nil {
			g |= bit
		}
	}
	return g
}

// mandatory returns the rights of desired the integrity check refuses: a
// token below the object's level loses what the label's policy forbids (no
// label: medium, NO_WRITE_UP). Only tokens with the NO_WRITE_UP mandatory
// policy are checked, as Windows does (Forshaw's Test-MandatoryIntegrityLevel).
func mandatory(t *Token, sd *SD, desired Mask, m GenericMapping) Mask {
	if !t.NoWriteUp {
		return 0
	}
	level, policy := MediumIntegrity, NoWriteUp
	if sd != nil && sd.Label != 0 {
		level, policy = sd.Label, sd.LabelPolicy
	}
	if t.Integrity >= level {
		return 0
	}
	allowed := Mask(0)
	if policy&NoReadUp == 0 {
		allowed |= m.Read
	}
	if policy&NoWriteUp == 0 {
		allowed |= m.Write | Delete | WriteDAC | WriteOwner
	}
	if policy&NoExecuteUp == 0 {
		allowed |= m.Execute
	}
	if t.HasPrivilege(SeRelabel) {
		allowed |= WriteOwner
	}
	return desired &^ (allowed | AccessSystemSecurity)
}

func ownerRightsApply(t *Token, sd *SD) bool {
	if sd == nil || sd.Owner == "" || !t.matchesAllow(sd.Owner) {
		return false
	}
	if t.IsRestricted() && !t.isRestricting(sd.Owner) {
		return false
	}
	for _, a := range sd.DACL {
		if eqSID(a.SID, OwnerRights) {
			return false
		}
	}
	return true
}

// daclPass walks the DACL and returns the rights of want no ACE granted, or
// the rights a deny ACE met first refused (MS-DTYP 2.5.3.2; Forshaw
// Get-DiscretionaryAccess). Allow masks are generic-mapped; deny masks are
// taken as they are, which errs towards allowing if the kernel maps them.
func daclPass(t *Token, sd *SD, want Mask, m GenericMapping, restricted bool) Mask {
	if sd == nil || sd.NullDACL {
		return 0
	}
	for _, a := range sd.DACL {
		if a.Flags&InheritOnly != 0 {
			continue
		}
		sid := a.SID
		if eqSID(sid, OwnerRights) {
			sid = sd.Owner
		}
		switch a.Type {
		case Allowed:
			if (restricted && t.isRestricting(sid)) || (!restricted && t.matchesAllow(sid)) {
				want &^= m.Map(a.Mask)
			}
		case Denied:
			if (restricted && t.isRestricting(sid)) || (!restricted && t.matchesDeny(sid)) {
				if want&a.Mask != 0 {
					return want & a.Mask
				}
			}
		}
		if want == 0 {
			return 0
		}
	}
	return want
}
