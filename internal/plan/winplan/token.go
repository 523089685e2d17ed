package winplan

import (
	"errors"
	"fmt"
)

// Flags of CreateRestrictedToken (winnt.h); x/sys/windows does not define them.
const (
	DisableMaxPrivilege uint32 = 0x1
	LuaToken            uint32 = 0x4
	WriteRestricted     uint32 = 0x8
)

// TokenSpec is the restricted token a command runs with.
type TokenSpec struct {
	// Flags for CreateRestrictedToken: DISABLE_MAX_PRIVILEGE drops every
	// privilege but SeChangeNotifyPrivilege, LUA_TOKEN makes the token a
	// filtered (non-admin) one, WRITE_RESTRICTED applies the restricting
	// SIDs to write access only.
	Flags uint32
	// RestrictingSIDs: the active roots' capability SIDs, then the run's
	// instance SID, then the logon SID, then Everyone. Never the user's own
	// SID: with it, any file the user may write would pass the restricted
	// check.
	RestrictingSIDs []SID
	// DefaultDACL protects the objects the command creates (processes,
	// threads, pipes, events): the user, for cordon and the user's own
	// tools; the run's instance SID, for the command's own processes; and
	// SYSTEM. Not the logon SID: every sandbox of the session holds it as a
	// restricting SID, so with it another sandbox could open this one's
	// processes for writing and act with its capability SIDs (review H5).
	DefaultDACL []ACE
	// EnablePrivileges are turned on in the new token.
	EnablePrivileges []string
	// DisableSIDs become deny-only in the new token (SidsToDisable):
	// INTERACTIVE, which the default launch and activation permissions of
	// COM servers grant, so that the command cannot have processes started
	// for it outside its job through them (review M7; not verified).
	DisableSIDs []SID
}

// Interactive is the INTERACTIVE group, S-1-5-4.
const Interactive SID = "S-1-5-4"

// NewTokenSpec builds the token specification for the active roots' SIDs,
// the run's instance SID (drawn for this run with [NewInstanceSID], in no
// ACE anywhere), and the caller's logon and user SIDs.
func NewTokenSpec(caps []SID, instance, logon, user SID) (TokenSpec, error) {
	if !IsLogonSID(logon) {
		return TokenSpec{}, fmt.Errorf("%q is not a logon session SID (S-1-5-5-X-Y)", logon)
	}
	if user == "" {
		return TokenSpec{}, fmt.Errorf("the caller's user SID is unknown")
	}
	if !IsCapabilitySID(instance) || containsSID(caps, instance) || instance == user {
		return TokenSpec{}, fmt.Errorf("%q is not a fresh instance SID for this run", instance)
	}
	spec := TokenSpec{
		Flags: DisableMaxPrivilege | LuaToken | WriteRestricted,
		DefaultDACL: []ACE{
			{Type: Allow, Mask: GenericAll, SID: user},
			{Type: Allow, Mask: GenericAll, SID: instance},
			{Type: Allow, Mask: GenericAll, SID: LocalSystem},
		},
		EnablePrivileges: []string{"SeChangeNotifyPrivilege"},
		DisableSIDs:      []SID{Interactive},
	}
	for _, c := range caps {
		if !IsCapabilitySID(c) {
			return TokenSpec{}, fmt.Errorf("%q is not a capability SID", c)
		}
		spec.RestrictingSIDs = append(spec.RestrictingSIDs, c)
	}
	spec.RestrictingSIDs = append(spec.RestrictingSIDs, instance, logon, Everyone)
	if containsSID(spec.RestrictingSIDs, user) {
		return TokenSpec{}, fmt.Errorf("the user's own SID %s would be a restricting SID, which would let the command write wherever the user can", user)
	}
	return spec, nil
}

// TokenElevationType values (winnt.h, TOKEN_ELEVATION_TYPE).
const (
	ElevationDefault uint32 = 1 // no split token: UAC off, or a standard user
	ElevationFull    uint32 = 2 // the full half of a split administrator token
	ElevationLimited uint32 = 3 // the filtered half
)

// ErrElevated: cordon runs elevated, and the sandbox will not derive its
// token from an administrator's.
var ErrElevated = errors.New("cordon is running elevated")

// CheckCaller refuses an elevated caller (review M12): the command's token
// is derived from cordon's own, and from an elevated token it would keep
// the administrator's read rights everywhere and run at high integrity;
// what LUA_TOKEN does to such a token's groups is not documented. elevated
// is TokenElevation, typ TokenElevationType.
func CheckCaller(elevated bool, typ uint32) error {
	if elevated || typ == ElevationFull {
		return fmt.Errorf("%w (as administrator): the sandbox's token would be derived from the administrator's "+
			"token; run cordon from a normal, non-elevated prompt (on a machine with UAC turned off, as a "+
			"standard user)", ErrElevated)
	}
	return nil
}
