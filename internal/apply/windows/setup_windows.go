package windows

// The elevated mode's one-time setup and its undo. NOT VERIFIED: none of
// this has run on a Windows host, and under Wine the account and LSA calls
// are stubs and PowerShell is absent. It follows winplan.PlanSetup; each
// step is recorded in the setup ledger before it is made.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/cordon-sandbox/cordon/internal/fsutil"
	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

var (
	netapi32                    = windows.NewLazySystemDLL("netapi32.dll")
	procNetUserAdd              = netapi32.NewProc("NetUserAdd")
	procNetUserDel              = netapi32.NewProc("NetUserDel")
	procNetLocalGroupAdd        = netapi32.NewProc("NetLocalGroupAdd")
	procNetLocalGroupDel        = netapi32.NewProc("NetLocalGroupDel")
	procNetLocalGroupAddMembers = netapi32.NewProc("NetLocalGroupAddMembers")
	advapi32                    = windows.NewLazySystemDLL("advapi32.dll")
	procLsaOpenPolicy           = advapi32.NewProc("LsaOpenPolicy")
	procLsaAddAccountRights     = advapi32.NewProc("LsaAddAccountRights")
	procLsaClose                = advapi32.NewProc("LsaClose")
)

const setupLedgerFile = "elevated.json"

type userInfo1 struct {
	Name, Password *uint16
	PasswordAge    uint32
	Priv           uint32
	HomeDir        *uint16
	Comment        *uint16
	Flags          uint32
	ScriptPath     *uint16
}

type localGroupInfo1 struct{ Name, Comment *uint16 }

type localGroupMembersInfo3 struct{ DomainAndName *uint16 }

type lsaObjectAttributes struct {
	Length                   uint32
	RootDirectory            windows.Handle
	ObjectName               *windows.NTUnicodeString
	Attributes               uint32
	SecurityDescriptor       uintptr
	SecurityQualityOfService uintptr
}

// netErr turns a NET_API_STATUS into an error.
func netErr(call string, r uintptr) error {
	if r == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", call, windows.Errno(r))
}

func u16(s string) *uint16 {
	p, _ := windows.UTF16PtrFromString(s)
	return p
}

// Setup carries out winplan's setup plan as the elevated installer and
// records each step in stateDir's setup ledger first. NOT VERIFIED on
// Windows.
func Setup(ctx context.Context, stateDir string, in winplan.SetupInput) (*winplan.SetupLedger, error) {
	caller, err := openCallerToken()
	if err != nil {
		return nil, err
	}
	defer caller.Close()
	if elevated, _, err := elevation(caller); err != nil || !elevated {
		return nil, fmt.Errorf("cordon windows setup must run elevated (from an administrator prompt): it creates local users and firewall rules")
	}
	u, err := caller.GetTokenUser()
	if err != nil {
		return nil, err
	}
	in.Installer = winplan.SID(u.User.Sid.String())
	plan, err := winplan.PlanSetup(in)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	led := &winplan.SetupLedger{Version: 1, ProxyPorts: in.ProxyPorts}
	record := func(s winplan.SetupStep) error {
		led.Steps = append(led.Steps, s)
		return saveSetupLedger(stateDir, led, plan.Marker)
	}
	if err := record(winplan.SetupStep{Kind: "group", Name: plan.Group}); err != nil {
		return led, err
	}
	gi := localGroupInfo1{Name: u16(plan.Group), Comment: u16("cordon's sandbox users")}
	r, _, _ := procNetLocalGroupAdd.Call(0, 1, uintptr(unsafe.Pointer(&gi)), 0)
	if err := netErr("NetLocalGroupAdd", r); err != nil {
		return led, err
	}
	gsid, _, _, err := windows.LookupSID("", plan.Group)
	if err != nil {
		return led, fmt.Errorf("looking up the group %s: %w", plan.Group, err)
	}
	led.Group = winplan.SID(gsid.String())
	for _, user := range plan.Users {
		if err := ctx.Err(); err != nil {
			return led, err
		}
		pw, err := winplan.NewSandboxPassword()
		if err != nil {
			return led, err
		}
		if err := record(winplan.SetupStep{Kind: "user", Name: user.Name}); err != nil {
			return led, err
		}
		ui := userInfo1{Name: u16(user.Name), Password: u16(pw), Priv: 1, Comment: u16(user.Comment), Flags: user.Flags}
		r, _, _ := procNetUserAdd.Call(0, 1, uintptr(unsafe.Pointer(&ui)), 0)
		runtime.KeepAlive(&ui)
		if err := netErr("NetUserAdd "+user.Name, r); err != nil {
			return led, err
		}
		sid, _, _, err := windows.LookupSID("", user.Name)
		if err != nil {
			return led, fmt.Errorf("looking up %s: %w", user.Name, err)
		}
		blob, err := protect([]byte(pw))
		if err != nil {
			return led, err
		}
		led.Accounts = append(led.Accounts, winplan.SetupAccount{Name: user.Name, SID: winplan.SID(sid.String()), Password: blob})
		if err := record(winplan.SetupStep{Kind: "password", Name: user.Name}); err != nil {
			return led, err
		}
		for _, g := range user.Groups {
			mi := localGroupMembersInfo3{DomainAndName: u16(user.Name)}
			r, _, _ := procNetLocalGroupAddMembers.Call(0, uintptr(unsafe.Pointer(u16(g))), 3, uintptr(unsafe.Pointer(&mi)), 1)
			if err := netErr("NetLocalGroupAddMembers "+g, r); err != nil {
				return led, err
			}
		}
	}
	if err := addRights(plan.Rights); err != nil {
		return led, err
	}
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\SpecialAccounts\UserList`, registry.SET_VALUE)
	if err != nil {
		return led, fmt.Errorf("hiding the sandbox users from the sign-in screen: %w", err)
	}
	for _, h := range plan.Hidden {
		if err := record(winplan.SetupStep{Kind: "hidden", Name: h}); err != nil {
			k.Close()
			return led, err
		}
		if err := k.SetDWordValue(h, 0); err != nil {
			k.Close()
			return led, err
		}
	}
	k.Close()
	var offline winplan.SID
	for _, a := range led.Accounts {
		if a.Name == winplan.OfflineUser {
			offline = a.SID
		}
	}
	for _, rule := range plan.FirewallRules {
		if err := record(winplan.SetupStep{Kind: "firewall", Name: rule.Name}); err != nil {
			return led, err
		}
		if err := powershell(ctx, rule.PowerShell(offline)); err != nil {
			return led, fmt.Errorf("firewall rule %q: %w", rule.Name, err)
		}
	}
	// The deny-read ACEs on the secrets, for the sandbox group: through the
	// same Reconcile as a run's (read first, only what is missing, each ACE
	// in the setup ledger before it is written, read back after).
	if err := applySetupACEs(plan, led, func() error { return saveSetupLedger(stateDir, led, plan.Marker) }); err != nil {
		return led, err
	}
	return led, nil
}

// applySetupACEs stamps the setup's deny-read ACEs for the group in led,
// recording them in led.
func applySetupACEs(plan *winplan.SetupPlan, led *winplan.SetupLedger, save func() error) error {
	fs := fileSystem()
	acl, _, err := plan.SetupACLPlan(fs, led.Group)
	if err != nil {
		return err
	}
	for _, g := range acl.Grants {
		led.Steps = append(led.Steps, winplan.SetupStep{Kind: "ace", Name: plan.Group, Detail: g.Object.Path})
	}
	if err := save(); err != nil {
		return err
	}
	j := &winplan.SetupJournal{Ledger: led, Save: save}
	if _, err := winplan.Reconcile(fs, fs, j, &acl, time.Now); err != nil {
		return fmt.Errorf("denying the sandbox users your secrets: %w", err)
	}
	return save()
}

// Undo removes what the setup ledger in stateDir records, in reverse, and
// then the ledger. NOT VERIFIED on Windows.
func Undo(ctx context.Context, stateDir string) error {
	data, err := os.ReadFile(filepath.Join(stateDir, setupLedgerFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var led winplan.SetupLedger
	if err := json.Unmarshal(data, &led); err != nil {
		return fmt.Errorf("the setup ledger %s is unreadable (%v); remove the users %s and %s, the group %s and the firewall group %q by hand",
			setupLedgerFile, err, winplan.OfflineUser, winplan.OnlineUser, winplan.SandboxGroup, winplan.FirewallGroup)
	}
	var errs []error
	// The ACEs first, while the group they name still exists.
	if len(led.ACEs) > 0 {
		fs := fileSystem()
		res, err := winplan.Cleanup(fs, fs, winplan.Ledger{ACEs: led.ACEs})
		led.ACEs = res.Remaining.ACEs
		if err != nil {
			errs = append(errs, fmt.Errorf("removing the deny-read ACEs: %w", err))
			// Keep what is left recorded; the accounts stay until they go.
			if data, merr := json.MarshalIndent(&led, "", "  "); merr == nil {
				fsutil.WriteFileAtomic(filepath.Join(stateDir, setupLedgerFile), append(data, '\n'), 0o600)
			}
			return errors.Join(errs...)
		}
	}
	firewallDone := false
	for _, s := range winplan.UndoSteps(led.Steps) {
		switch s.Kind {
		case "firewall":
			if !firewallDone {
				firewallDone = true
				if err := powershell(ctx, winplan.RemoveFirewallRules()); err != nil {
					errs = append(errs, err)
				}
			}
		case "hidden":
			if k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\SpecialAccounts\UserList`, registry.SET_VALUE); err == nil {
				k.DeleteValue(s.Name)
				k.Close()
			}
		case "user":
			r, _, _ := procNetUserDel.Call(0, uintptr(unsafe.Pointer(u16(s.Name))))
			if err := netErr("NetUserDel "+s.Name, r); err != nil && r != 2221 { // NERR_UserNotFound
				errs = append(errs, err)
			}
		case "group":
			r, _, _ := procNetLocalGroupDel.Call(0, uintptr(unsafe.Pointer(u16(s.Name))))
			if err := netErr("NetLocalGroupDel "+s.Name, r); err != nil && r != 2220 { // NERR_GroupNotFound
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return os.Remove(filepath.Join(stateDir, setupLedgerFile))
}

func saveSetupLedger(dir string, led *winplan.SetupLedger, sddl string) error {
	data, err := json.MarshalIndent(led, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, setupLedgerFile)
	if err := fsutil.WriteFileAtomic(path, append(data, '\n'), 0o600); err != nil {
		return err
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}

// protect encrypts data with DPAPI for the current (installing) user.
func protect(data []byte) ([]byte, error) {
	in := windows.DataBlob{Size: uint32(len(data)), Data: &data[0]}
	var out windows.DataBlob
	if err := windows.CryptProtectData(&in, u16("cordon sandbox account"), nil, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return nil, fmt.Errorf("CryptProtectData: %w", err)
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...), nil
}

func addRights(rights []winplan.AccountRight) error {
	var oa lsaObjectAttributes
	oa.Length = uint32(unsafe.Sizeof(oa))
	var policy uintptr
	const access = 0x00000010 | 0x00000800 // POLICY_CREATE_ACCOUNT | POLICY_LOOKUP_NAMES
	if r, _, _ := procLsaOpenPolicy.Call(0, uintptr(unsafe.Pointer(&oa)), access, uintptr(unsafe.Pointer(&policy))); r != 0 {
		return fmt.Errorf("LsaOpenPolicy: %w", windows.NTStatus(r))
	}
	defer procLsaClose.Call(policy)
	for _, ar := range rights {
		sid, _, _, err := windows.LookupSID("", ar.Account)
		if err != nil {
			return fmt.Errorf("looking up %s: %w", ar.Account, err)
		}
		name, err := windows.NewNTUnicodeString(ar.Right)
		if err != nil {
			return err
		}
		if r, _, _ := procLsaAddAccountRights.Call(policy, uintptr(unsafe.Pointer(sid)), uintptr(unsafe.Pointer(name)), 1); r != 0 {
			return fmt.Errorf("LsaAddAccountRights %s %s: %w", ar.Account, ar.Right, windows.NTStatus(r))
		}
	}
	return nil
}

func powershell(ctx context.Context, command string) error {
	system, err := windows.GetSystemDirectory()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(system, `WindowsPowerShell\v1.0\powershell.exe`), "-NoProfile", "-NonInteractive", "-Command", command)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}
