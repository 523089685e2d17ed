package accessmodel

import "strings"

// SID is a security identifier in string form; comparisons ignore case.
type SID string

// Well-known SIDs ("Well-known SIDs", MS-DTYP 2.4.2.4).
const (
	Everyone           SID = "S-1-1-0"
	Local              SID = "S-1-2-0"
	CreatorOwner       SID = "S-1-3-0"
	CreatorGroup       SID = "S-1-3-1"
	OwnerRights        SID = "S-1-3-4"
	Interactive        SID = "S-1-5-4"
	AuthenticatedUsers SID = "S-1-5-11"
	Restricted         SID = "S-1-5-12"
	LocalSystem        SID = "S-1-5-18"
	Administrators     SID = "S-1-5-32-544"
	Users              SID = "S-1-5-32-545"

	// Integrity levels are label SIDs S-1-16-<rid>.
	LowLabel    SID = "S-1-16-4096"
	MediumLabel SID = "S-1-16-8192"
	HighLabel   SID = "S-1-16-12288"
)

// Integrity levels, by the label SID's RID.
type Level uint32

const (
	LowIntegrity    Level = 0x1000
	MediumIntegrity Level = 0x2000
	HighIntegrity   Level = 0x3000
	SystemIntegrity Level = 0x4000
)

// GroupAttr holds a token group's attributes that matter to the access check
// ("SID Attributes in an Access Token").
type GroupAttr uint8

const (
	// Enabled: allow and deny ACEs for the SID match.
	Enabled GroupAttr = 1 << iota
	// DenyOnly: only deny ACEs match (SE_GROUP_USE_FOR_DENY_ONLY).
	DenyOnly
	// LogonID marks the logon session SID (SE_GROUP_LOGON_ID).
	LogonID
	// Owner: the SID may be made an object's owner (SE_GROUP_OWNER).
	Owner
)

// Group is one SID of a token with its attributes.
type Group struct {
	SID  SID
	Attr GroupAttr
}

// Privileges the model knows.
const (
	SeChangeNotify        = "SeChangeNotifyPrivilege"
	SeTakeOwnership       = "SeTakeOwnershipPrivilege"
	SeSecurity            = "SeSecurityPrivilege"
	SeRestore             = "SeRestorePrivilege"
	SeCreateSymbolicLink  = "SeCreateSymbolicLinkPrivilege"
	SeBackup              = "SeBackupPrivilege"
	SeDebug               = "SeDebugPrivilege"
	SeImpersonate         = "SeImpersonatePrivilege"
	SeIncreaseWorkingSet  = "SeIncreaseWorkingSetPrivilege"
	SeTimeZone            = "SeTimeZonePrivilege"
	SeShutdown            = "SeShutdownPrivilege"
	SeUndock              = "SeUndockPrivilege"
	SeIncreaseQuota       = "SeIncreaseQuotaPrivilege"
	SeSystemEnvironment   = "SeSystemEnvironmentPrivilege"
	SeLoadDriver          = "SeLoadDriverPrivilege"
	SeManageVolume        = "SeManageVolumePrivilege"
	SeCreateGlobal        = "SeCreateGlobalPrivilege"
	SeRelabel             = "SeRelabelPrivilege"
	SeDelegateSessionUser = "SeDelegateSessionUserImpersonatePrivilege"
)

// Token is an access token, as far as access checks see it.
type Token struct {
	// User is the token's user; UserDenyOnly makes it deny-only (as
	// SidsToDisable can).
	User         SID
	UserDenyOnly bool
	Groups       []Group
	// Restricting are the restricting SIDs; a token with any is restricted.
	Restricting []SID
	// WriteRestricted makes the restricting SIDs count for write requests
	// only (CreateRestrictedToken's WRITE_RESTRICTED).
	WriteRestricted bool
	// Privileges are the enabled privileges.
	Privileges []string
	Integrity  Level
	// NoWriteUp is the token's mandatory policy TOKEN_MANDATORY_POLICY_NO_WRITE_UP,
	// on for every normal token.
	NoWriteUp bool
	// Owner is the default owner of the objects the token creates
	// (TokenOwner); empty means User.
	Owner        SID
	PrimaryGroup SID
	// DefaultDACL protects the objects the token creates when nothing is
	// inherited (TokenDefaultDacl).
	DefaultDACL []ACE
	// Elevated is TokenElevation; ElevationFull says the token is the full
	// half of a UAC split token (TokenElevationTypeFull).
	Elevated, ElevationFull bool
}

// IsRestricted reports whether t has restricting SIDs.
func (t *Token) IsRestricted() bool { return len(t.Restricting) > 0 }

// HasPrivilege reports whether t holds the enabled privilege name.
func (t *Token) HasPrivilege(name string) bool {
	for _, p := range t.Privileges {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// LogonSID returns the group marked LogonID, or "".
func (t *Token) LogonSID() SID {
	for _, g := range t.Groups {
		if g.Attr&LogonID != 0 {
			return g.SID
		}
	}
	return ""
}

func eqSID(a, b SID) bool { return strings.EqualFold(string(a), string(b)) }

// matchesAllow reports whether an allow ACE for sid applies to t in the
// normal pass: sid is the user or an enabled group.
func (t *Token) matchesAllow(sid SID) bool {
	if eqSID(sid, t.User) {
		return !t.UserDenyOnly
	}
	for _, g := range t.Groups {
		if eqSID(g.SID, sid) && g.Attr&Enabled != 0 && g.Attr&DenyOnly == 0 {
			return true
		}
	}
	return false
}

// matchesDeny reports whether a deny ACE for sid applies in the normal pass:
// sid is the user or a group, enabled or deny-only.
func (t *Token) matchesDeny(sid SID) bool {
	if eqSID(sid, t.User) {
		return true
	}
	for _, g := range t.Groups {
		if eqSID(g.SID, sid) && g.Attr&(Enabled|DenyOnly) != 0 {
			return true
		}
	}
	return false
}

// isRestricting reports whether sid is one of t's restricting SIDs.
func (t *Token) isRestricting(sid SID) bool {
	for _, s := range t.Restricting {
		if eqSID(s, sid) {
			return true
		}
	}
	return false
}

// mayOwn reports whether t may set sid as an object's owner without
// SeRestorePrivilege: its user, or a group with the owner attribute.
func (t *Token) mayOwn(sid SID) bool {
	if eqSID(sid, t.User) {
		return true
	}
	for _, g := range t.Groups {
		if eqSID(g.SID, sid) && g.Attr&Owner != 0 && g.Attr&Enabled != 0 {
			return true
		}
	}
	return t.HasPrivilege(SeRestore)
}

func (t *Token) owner() SID {
	if t.Owner != "" {
		return t.Owner
	}
	return t.User
}

// Flags of CreateRestrictedToken.
const (
	DisableMaxPrivilege uint32 = 0x1
	SandboxInert        uint32 = 0x2
	LUAToken            uint32 = 0x4
	WriteRestrictedFlag uint32 = 0x8
)

// Restrict derives a token the way CreateRestrictedToken does: the SIDs in
// disable become deny-only, DISABLE_MAX_PRIVILEGE keeps only
// SeChangeNotifyPrivilege, LUA_TOKEN makes the administrators group deny-only
// and drops the privileges a filtered (non-admin) token lacks, restricting
// SIDs are added (a restricted token's restricting list becomes the
// intersection with the new one; CreateRestrictedToken's documentation), and
// WRITE_RESTRICTED is carried over. The default DACL is copied; the caller
// sets a new one as cordon does with SetTokenInformation.
func Restrict(base Token, flags uint32, disable []SID, restricting []SID) Token {
	t := base
	t.Groups = append([]Group(nil), base.Groups...)
	t.DefaultDACL = append([]ACE(nil), base.DefaultDACL...)
	for _, d := range disable {
		if eqSID(d, t.User) {
			t.UserDenyOnly = true
		}
		for i := range t.Groups {
			if eqSID(t.Groups[i].SID, d) {
				t.Groups[i].Attr = t.Groups[i].Attr&^Enabled | DenyOnly
			}
		}
	}
	if flags&LUAToken != 0 {
		for i := range t.Groups {
			if eqSID(t.Groups[i].SID, Administrators) {
				t.Groups[i].Attr = t.Groups[i].Attr&^Enabled | DenyOnly
			}
		}
	}
	if flags&DisableMaxPrivilege != 0 {
		var keep []string
		if t.HasPrivilege(SeChangeNotify) {
			keep = []string{SeChangeNotify}
		}
		t.Privileges = keep
	}
	if len(restricting) > 0 {
		if base.IsRestricted() {
			var both []SID
			for _, r := range restricting {
				if base.isRestricting(r) {
					both = append(both, r)
				}
			}
			t.Restricting = both
		} else {
			t.Restricting = append([]SID(nil), restricting...)
		}
	}
	if flags&WriteRestrictedFlag != 0 {
		t.WriteRestricted = true
	}
	return t
}

// StandardUser returns the token a standard (or UAC-filtered) user gets at
// an interactive logon: user, Everyone, Local, INTERACTIVE, Authenticated
// Users, Users, the logon SID, and, when filteredAdmin, Administrators as
// deny-only; medium integrity with NO_WRITE_UP; the usual privileges of a
// filtered token; and the default DACL Windows gives such a token (user and
// SYSTEM full control, the logon SID read and execute).
func StandardUser(user, logon SID, filteredAdmin bool) Token {
	t := Token{
		User: user,
		Groups: []Group{
			{SID: Everyone, Attr: Enabled},
			{SID: Local, Attr: Enabled},
			{SID: Interactive, Attr: Enabled},
			{SID: AuthenticatedUsers, Attr: Enabled},
			{SID: Users, Attr: Enabled},
			{SID: logon, Attr: Enabled | LogonID},
		},
		Privileges:   []string{SeChangeNotify, SeShutdown, SeUndock, SeIncreaseWorkingSet, SeTimeZone},
		Integrity:    MediumIntegrity,
		NoWriteUp:    true,
		PrimaryGroup: user,
		DefaultDACL: []ACE{
			{Type: Allowed, Mask: GenericAll, SID: user},
			{Type: Allowed, Mask: GenericAll, SID: LocalSystem},
			{Type: Allowed, Mask: GenericRead | GenericExecute, SID: logon},
		},
	}
	if filteredAdmin {
		t.Groups = append(t.Groups, Group{SID: Administrators, Attr: DenyOnly})
	}
	return t
}
