package windows

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

// CreateRestrictedToken is not in x/sys/windows; bind it lazily, from
// System32 only.
var procCreateRestrictedToken = windows.NewLazySystemDLL("advapi32.dll").NewProc("CreateRestrictedToken")

// openCallerToken opens cordon's own primary token with the rights needed to
// derive the command's token from it.
func openCallerToken() (windows.Token, error) {
	var t windows.Token
	err := windows.OpenProcessToken(windows.CurrentProcess(),
		windows.TOKEN_DUPLICATE|windows.TOKEN_QUERY|windows.TOKEN_ASSIGN_PRIMARY|
			windows.TOKEN_ADJUST_DEFAULT|windows.TOKEN_ADJUST_SESSIONID|windows.TOKEN_ADJUST_PRIVILEGES, &t)
	if err != nil {
		return 0, fmt.Errorf("opening cordon's own token: %w", err)
	}
	return t, nil
}

// callerSIDs returns the logon session SID and the user SID of t. The logon
// SID is the group marked SE_GROUP_LOGON_ID, looked for in the linked token
// too when UAC split the token.
func callerSIDs(t windows.Token) (logon, user winplan.SID, err error) {
	u, err := t.GetTokenUser()
	if err != nil {
		return "", "", fmt.Errorf("reading the user of cordon's token: %w", err)
	}
	user = winplan.SID(u.User.Sid.String())
	if logon, err = logonSIDOf(t); err == nil {
		return logon, user, nil
	}
	linked, lerr := t.GetLinkedToken()
	if lerr == nil {
		defer linked.Close()
		if logon, lerr = logonSIDOf(linked); lerr == nil {
			return logon, user, nil
		}
	}
	return "", "", fmt.Errorf("cordon's token has no logon session SID (nor has its linked token), "+
		"which the sandbox needs as a restricting SID; run cordon from an interactive logon: %w", err)
}

func logonSIDOf(t windows.Token) (winplan.SID, error) {
	groups, err := t.GetTokenGroups()
	if err != nil {
		return "", err
	}
	for _, g := range groups.AllGroups() {
		if g.Attributes&windows.SE_GROUP_LOGON_ID == windows.SE_GROUP_LOGON_ID {
			return winplan.SID(g.Sid.String()), nil
		}
	}
	return "", errors.New("no group with SE_GROUP_LOGON_ID")
}

// tokenDefaultDACL is TOKEN_DEFAULT_DACL, absent from x/sys/windows.
type tokenDefaultDACL struct {
	DefaultDacl *windows.ACL
}

// restrictedToken derives the command's token from base as spec says, and
// checks that the result is restricted.
func restrictedToken(base windows.Token, spec winplan.TokenSpec) (windows.Token, error) {
	if len(spec.RestrictingSIDs) == 0 {
		return 0, errors.New("no restricting SIDs: the token would not be restricted")
	}
	restrict := make([]windows.SIDAndAttributes, len(spec.RestrictingSIDs))
	for i, s := range spec.RestrictingSIDs {
		sid, err := windows.StringToSid(string(s))
		if err != nil {
			return 0, fmt.Errorf("restricting SID %s: %w", s, err)
		}
		restrict[i] = windows.SIDAndAttributes{Sid: sid}
	}
	var disable []windows.SIDAndAttributes
	for _, s := range spec.DisableSIDs {
		sid, err := windows.StringToSid(string(s))
		if err != nil {
			return 0, fmt.Errorf("SID to disable %s: %w", s, err)
		}
		disable = append(disable, windows.SIDAndAttributes{Sid: sid})
	}
	var disablePtr uintptr
	if len(disable) > 0 {
		disablePtr = uintptr(unsafe.Pointer(&disable[0]))
	}
	var t windows.Token
	r1, _, e1 := procCreateRestrictedToken.Call(
		uintptr(base), uintptr(spec.Flags),
		uintptr(len(disable)), disablePtr,
		0, 0, // no privileges to delete beyond DISABLE_MAX_PRIVILEGE
		uintptr(len(restrict)), uintptr(unsafe.Pointer(&restrict[0])),
		uintptr(unsafe.Pointer(&t)))
	runtime.KeepAlive(restrict)
	runtime.KeepAlive(disable)
	if r1 == 0 {
		return 0, fmt.Errorf("CreateRestrictedToken: %w", e1)
	}
	if err := setDefaultDACL(t, spec.DefaultDACL); err != nil {
		t.Close()
		return 0, err
	}
	for _, name := range spec.EnablePrivileges {
		// Best effort: a missing SeChangeNotifyPrivilege breaks programs
		// (every directory on the way must then be traversable), it does
		// not weaken the sandbox.
		_ = enablePrivilege(t, name)
	}
	// Read the restricting SIDs back rather than trust the call: a token
	// missing one of them is not the sandbox the plan describes.
	got, err := restrictingSIDs(t)
	if errors.Is(err, windows.ERROR_INVALID_FUNCTION) && acceptWine && underWine() {
		// Wine cannot report them (and would not enforce them anyway).
		return t, nil
	}
	if err == nil && !slices.Equal(got, spec.RestrictingSIDs) {
		err = fmt.Errorf("it carries %v, the plan asked for %v", got, spec.RestrictingSIDs)
	}
	if err == nil {
		err = checkDisabled(t, spec.DisableSIDs)
	}
	if err != nil {
		t.Close()
		return 0, fmt.Errorf("the token CreateRestrictedToken returned is not restricted as planned (%v); "+
			"refusing to run the command with it", err)
	}
	return t, nil
}

// setDefaultDACL sets t's default DACL to aces, encoded by winplan. Generic
// rights stay generic: each object type maps them when an object gets them.
func setDefaultDACL(t windows.Token, aces []winplan.ACE) error {
	for _, a := range aces {
		if a.Type != winplan.Allow {
			return fmt.Errorf("default DACL entry %s is not an allow ACE", a)
		}
	}
	b, err := winplan.EncodeACL(aces)
	if err != nil {
		return fmt.Errorf("building the token's default DACL: %w", err)
	}
	buf := make([]uint32, (len(b)+3)/4)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(b)), b)
	info := tokenDefaultDACL{DefaultDacl: (*windows.ACL)(unsafe.Pointer(&buf[0]))}
	err = windows.SetTokenInformation(t, windows.TokenDefaultDacl, (*byte)(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	runtime.KeepAlive(buf)
	if err != nil {
		return fmt.Errorf("setting the token's default DACL: %w", err)
	}
	return nil
}

func enablePrivilege(t windows.Token, name string) error {
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return err
	}
	var luid windows.LUID
	if err := windows.LookupPrivilegeValue(nil, n, &luid); err != nil {
		return err
	}
	tp := windows.Tokenprivileges{PrivilegeCount: 1}
	tp.Privileges[0] = windows.LUIDAndAttributes{Luid: luid, Attributes: windows.SE_PRIVILEGE_ENABLED}
	return windows.AdjustTokenPrivileges(t, false, &tp, 0, nil, nil)
}

// restrictingSIDs reads back the restricting SIDs of t.
func restrictingSIDs(t windows.Token) ([]winplan.SID, error) {
	var n uint32
	err := windows.GetTokenInformation(t, windows.TokenRestrictedSids, nil, 0, &n)
	if n == 0 {
		return nil, fmt.Errorf("GetTokenInformation(TokenRestrictedSids): %w", err)
	}
	buf := make([]byte, n)
	if err := windows.GetTokenInformation(t, windows.TokenRestrictedSids, &buf[0], n, &n); err != nil {
		return nil, fmt.Errorf("GetTokenInformation(TokenRestrictedSids): %w", err)
	}
	groups := (*windows.Tokengroups)(unsafe.Pointer(&buf[0]))
	var out []winplan.SID
	for _, g := range groups.AllGroups() {
		out = append(out, winplan.SID(g.Sid.String()))
	}
	return out, nil
}

// elevation reads TokenElevation and TokenElevationType of t.
func elevation(t windows.Token) (elevated bool, typ uint32, err error) {
	elevated = t.IsElevated()
	var n uint32
	if err := windows.GetTokenInformation(t, windows.TokenElevationType, (*byte)(unsafe.Pointer(&typ)), uint32(unsafe.Sizeof(typ)), &n); err != nil {
		return elevated, 0, fmt.Errorf("reading TokenElevationType: %w", err)
	}
	return elevated, typ, nil
}

// checkDisabled verifies that each SID of disable that t holds is
// deny-only.
func checkDisabled(t windows.Token, disable []winplan.SID) error {
	groups, err := t.GetTokenGroups()
	if err != nil {
		return fmt.Errorf("reading the token's groups: %w", err)
	}
	for _, g := range groups.AllGroups() {
		sid := winplan.SID(g.Sid.String())
		if slices.Contains(disable, sid) && g.Attributes&windows.SE_GROUP_USE_FOR_DENY_ONLY == 0 {
			return fmt.Errorf("%s is still an enabled group, the plan asked for it deny-only", sid)
		}
	}
	return nil
}
