//go:build windows

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	applywin "github.com/cordon-sandbox/cordon/internal/apply/windows"
	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
	am "github.com/cordon-sandbox/cordon/internal/plan/winplan/accessmodel"
)

func main() {
	child := flag.String("probe", "", "internal: run one probe as the sandboxed child")
	path := flag.String("path", "", "internal: the probe's path")
	to := flag.String("to", "", "internal: the probe's second path")
	pid := flag.Int("pid", 0, "internal: cordon's process id")
	keep := flag.Bool("keep", false, "keep the scratch directory and its ACLs for inspection")
	flag.Parse()
	if *child != "" {
		os.Exit(runChild(*child, *path, *to, uint32(*pid)))
	}
	os.Exit(runParent(*keep))
}

// runParent prepares the sandbox, runs every probe and reports.
func runParent(keep bool) int {
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	profile, err := os.UserHomeDir()
	if err != nil {
		fmt.Println("verify: no profile directory:", err)
		return 3
	}
	base := filepath.Join(profile, "cordon-verify-"+hex.EncodeToString(b[:]))
	ws, out, state := filepath.Join(base, "ws"), filepath.Join(base, "out"), filepath.Join(base, "state")
	for _, d := range []string{filepath.Join(ws, ".git", "hooks"), out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fmt.Println("verify:", err)
			return 3
		}
	}
	for _, f := range []string{`ws\.git\config`, `ws\.git\hooks\pre-commit.sample`, `ws\main.go`, `ws\lib.go`, `ws\lib2.go`, `out\doc.txt`, `out\doc2.txt`, `out\doc3.txt`, `out\secret.txt`} {
		os.WriteFile(filepath.Join(base, f), []byte("cordon verify\n"), 0o644)
	}
	self, _ := os.Executable()
	in := winplan.Input{
		Workspace: ws,
		ProtectedPaths: []winplan.ProtectedPath{
			{Path: filepath.Join(ws, ".git", "hooks"), Dir: true}, {Path: filepath.Join(ws, ".git", "config")},
			{Path: filepath.Join(ws, ".vscode"), Dir: true}, {Path: filepath.Join(ws, ".mcp.json")},
		},
		DenyRead:                 []string{filepath.Join(out, "secret.txt")},
		AcceptUnenforcedDenyRead: true,
		Env:                      []string{"PATH=" + os.Getenv("PATH")},
		HostEnv:                  os.Environ(),
		StateDir:                 state,
		ProfileDir:               profile,
	}
	in.TempRoot, _ = winplan.TempRootFor(state, ws)
	fmt.Printf("verify: cordon's unelevated sandbox on %s\n", base)
	sb, err := applywin.Prepare(ctx, in)
	if err != nil {
		fmt.Println("verify: Prepare failed:", err)
		if !keep {
			applywin.Cleanup(ctx, state)
			os.RemoveAll(base)
		}
		return 3
	}
	defer sb.Close()
	for _, f := range sb.Facts() {
		fmt.Println("  fact:", f)
	}
	var passed, failed, observed, mismatches int
	for _, p := range probes {
		args := []string{self, "-probe", p.Kind, "-path", resolve(p.Path, base), "-to", resolve(p.To, base), "-pid", fmt.Sprint(os.Getpid())}
		r, w, _ := os.Pipe()
		res, err := sb.Run(ctx, applywin.Command{Args: args, Stdout: w, Stderr: w})
		w.Close()
		text, _ := io.ReadAll(r)
		r.Close()
		got, model := parseChild(string(text), res.ExitCode, err)
		verdict := "PASS"
		switch {
		case p.Expect == observe:
			verdict = "OBSERVED"
			observed++
		case (p.Expect == denied) == (got == "denied") && got != "error":
			passed++
		default:
			verdict = "FAIL"
			failed++
		}
		line := fmt.Sprintf("%-8s %s: promised %s, got %s", verdict, p.Name, p.Expect, got)
		if model != "" {
			if model != got {
				mismatches++
				line += fmt.Sprintf(" (MODEL MISMATCH: the model predicted %s)", model)
			} else {
				line += " (the model agrees)"
			}
		}
		fmt.Println(line)
		if got == "error" {
			fmt.Printf("         child said: %s\n", strings.TrimSpace(string(text)))
		}
	}
	fmt.Printf("%d passed, %d failed, %d observed, %d model mismatches\n", passed, failed, observed, mismatches)
	if !keep {
		sb.Close()
		if _, err := applywin.Cleanup(ctx, state); err != nil {
			fmt.Println("verify: cleanup:", err)
		}
		os.RemoveAll(base)
	}
	if failed > 0 || mismatches > 0 {
		return 1
	}
	return 0
}

// resolve turns a table path into a real one: below the scratch directory,
// or below %TEMP%; "" and host:port (no backslash) stay as they are.
func resolve(p, base string) string {
	switch {
	case p == "" || !strings.Contains(p, `\`):
		return p
	case strings.HasPrefix(p, "%TEMP%"):
		return os.Getenv("TEMP") + p[len("%TEMP%"):]
	}
	return filepath.Join(base, p)
}

// parseChild reads the child's "result: X" and "model: Y" lines.
func parseChild(text string, code int, err error) (got, model string) {
	got = "error"
	if err != nil {
		return got, ""
	}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "result: "); ok {
			got = v
		}
		if v, ok := strings.CutPrefix(l, "model: "); ok {
			model = v
		}
	}
	return got, model
}

// runChild tries one operation from inside the sandbox and prints
// "result: allowed|denied" and, where the model can judge it, "model: ...".
func runChild(kind, path, to string, cordonPID uint32) int {
	if m := predict(kind, path, to); m != "" {
		fmt.Println("model:", m)
	}
	err := do(kind, path, to, cordonPID)
	switch {
	case err == nil:
		fmt.Println("result: allowed")
	case isDenied(err):
		fmt.Println("result: denied")
		fmt.Println("detail:", err)
	default:
		fmt.Println("result: error")
		fmt.Println("detail:", err)
	}
	return 0
}

func isDenied(err error) bool {
	return errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, os.ErrPermission) || errors.Is(err, errDenied) ||
		errors.Is(err, windows.ERROR_PRIVILEGE_NOT_HELD) || errors.Is(err, windows.WSAEACCES) ||
		strings.Contains(err.Error(), "Access is denied")
}

var errDenied = errors.New("denied")

func do(kind, path, to string, cordonPID uint32) error {
	switch kind {
	case "write", "write-short", "append":
		if kind == "write-short" {
			path = shortName(path)
		}
		flag := os.O_WRONLY
		if kind == "append" {
			flag |= os.O_APPEND
		}
		f, err := os.OpenFile(path, flag, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.Write([]byte("x"))
		return err
	case "read":
		_, err := os.ReadFile(path)
		return err
	case "create":
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
		}
		return err
	case "delete":
		return os.Remove(path)
	case "rename":
		return windows.MoveFileEx(u16(path), u16(to), 0)
	case "replace":
		if err := os.WriteFile(path, []byte("[core]\n\thooksPath = evil\n"), 0o644); err != nil {
			return fmt.Errorf("writing the forgery: %w", err)
		}
		return windows.MoveFileEx(u16(path), u16(to), windows.MOVEFILE_REPLACE_EXISTING)
	case "link":
		return windows.CreateHardLink(u16(to), u16(path), 0)
	case "write-dac":
		sd, err := windows.SecurityDescriptorFromString("D:(A;;GA;;;WD)")
		if err != nil {
			return err
		}
		dacl, _, _ := sd.DACL()
		return windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	case "write-temp":
		return os.WriteFile(filepath.Join(os.Getenv("TEMP"), "probe.tmp"), []byte("x"), 0o644)
	case "proc-read", "proc-write", "proc-thread":
		access := map[string]uint32{"proc-read": windows.PROCESS_VM_READ, "proc-write": windows.PROCESS_VM_WRITE | windows.PROCESS_VM_OPERATION, "proc-thread": windows.PROCESS_CREATE_THREAD}[kind]
		h, err := windows.OpenProcess(access, false, cordonPID)
		if err == nil {
			windows.CloseHandle(h)
		}
		return err
	case "reg-write":
		k, _, err := registry.CreateKey(registry.CURRENT_USER, `Software\cordon-verify-probe`, registry.SET_VALUE)
		if err == nil {
			k.Close()
			registry.DeleteKey(registry.CURRENT_USER, `Software\cordon-verify-probe`)
		}
		return err
	case "reg-read":
		k, err := registry.OpenKey(registry.CURRENT_USER, `Software\Microsoft\Windows\CurrentVersion\Explorer`, registry.READ)
		if err == nil {
			k.Close()
		}
		return err
	case "clipboard":
		r, _, e := windows.NewLazySystemDLL("user32.dll").NewProc("OpenClipboard").Call(0)
		if r == 0 {
			return fmt.Errorf("%w: OpenClipboard: %v", errDenied, e)
		}
		windows.NewLazySystemDLL("user32.dll").NewProc("CloseClipboard").Call()
		return nil
	case "desktop":
		const hookControl, journalRecord = 0x0008, 0x0010
		r, _, e := windows.NewLazySystemDLL("user32.dll").NewProc("OpenDesktopW").Call(uintptr(unsafe.Pointer(u16("Default"))), 0, 0, hookControl|journalRecord)
		if r == 0 {
			return fmt.Errorf("%w: OpenDesktop: %v", errDenied, e)
		}
		windows.NewLazySystemDLL("user32.dll").NewProc("CloseDesktop").Call(r)
		return nil
	case "connect":
		c, err := net.DialTimeout("tcp", path, 5*time.Second)
		if err != nil {
			return fmt.Errorf("%w: %v", errDenied, err)
		}
		c.Close()
		return nil
	case "survivor":
		// Start a sleeper that would outlive this process, report its PID,
		// exit; the parent's next probe cannot see it, so this child checks
		// for itself whether the job would let a detached process go.
		cmd := exec.Command(os.Getenv("ComSpec"), "/c", "ping -n 30 127.0.0.1 >NUL")
		cmd.SysProcAttr = &windows.SysProcAttr{CreationFlags: windows.CREATE_BREAKAWAY_FROM_JOB}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("%w: a process breaking away from the job: %v", errDenied, err)
		}
		cmd.Process.Kill()
		return nil
	}
	return fmt.Errorf("unknown probe %q", kind)
}

func u16(s string) *uint16 { p, _ := windows.UTF16PtrFromString(s); return p }

func shortName(p string) string {
	buf := make([]uint16, windows.MAX_PATH)
	n, err := windows.GetShortPathName(u16(filepath.Dir(p)), &buf[0], uint32(len(buf)))
	if err != nil || n == 0 {
		return p
	}
	return filepath.Join(windows.UTF16ToString(buf[:n]), filepath.Base(p))
}

// predict runs the access-check model on this process's real token and the
// real descriptors of the objects the probe touches, for the file probes.
func predict(kind, path, to string) string {
	tok, err := modelToken()
	if err != nil {
		return ""
	}
	check := func(p string, m am.Mask) bool {
		sd, err := modelSD(p)
		return err == nil && am.AccessCheck(tok, sd, m, am.FileMapping) == nil
	}
	deleteOK := func(p string) bool { return check(p, am.Delete) || check(filepath.Dir(p), am.FileDeleteChild) }
	verdict := func(ok bool) string {
		if ok {
			return "allowed"
		}
		return "denied"
	}
	base := strings.SplitN(path, ":", 3)
	if len(base) == 3 { // C:\...:stream
		path = base[0] + ":" + base[1]
	}
	switch kind {
	case "write", "write-short":
		return verdict(check(path, am.FileWriteData))
	case "append":
		return verdict(check(path, am.FileAppendData))
	case "read":
		return verdict(check(path, am.FileReadData))
	case "create":
		return verdict(check(filepath.Dir(path), am.FileAddFile))
	case "delete":
		return verdict(deleteOK(path))
	case "rename":
		return verdict(deleteOK(path) && check(filepath.Dir(to), am.FileAddFile))
	case "write-dac":
		return verdict(check(path, am.WriteDAC))
	}
	return ""
}

// modelToken reads this process's token into the model's form.
func modelToken() (*am.Token, error) {
	var t windows.Token
	if err := windows.OpenProcessToken(windows.CurrentProcess(), windows.TOKEN_QUERY, &t); err != nil {
		return nil, err
	}
	defer t.Close()
	u, err := t.GetTokenUser()
	if err != nil {
		return nil, err
	}
	mt := &am.Token{User: am.SID(u.User.Sid.String()), Integrity: am.MediumIntegrity, NoWriteUp: true}
	groups, err := t.GetTokenGroups()
	if err != nil {
		return nil, err
	}
	for _, g := range groups.AllGroups() {
		var attr am.GroupAttr
		if g.Attributes&windows.SE_GROUP_ENABLED != 0 {
			attr |= am.Enabled
		}
		if g.Attributes&windows.SE_GROUP_USE_FOR_DENY_ONLY != 0 {
			attr |= am.DenyOnly
		}
		if g.Attributes&windows.SE_GROUP_LOGON_ID == windows.SE_GROUP_LOGON_ID {
			attr |= am.LogonID
		}
		mt.Groups = append(mt.Groups, am.Group{SID: am.SID(g.Sid.String()), Attr: attr})
	}
	var n uint32
	windows.GetTokenInformation(t, windows.TokenRestrictedSids, nil, 0, &n)
	if n > 0 {
		buf := make([]byte, n)
		if err := windows.GetTokenInformation(t, windows.TokenRestrictedSids, &buf[0], n, &n); err == nil {
			for _, g := range (*windows.Tokengroups)(unsafe.Pointer(&buf[0])).AllGroups() {
				mt.Restricting = append(mt.Restricting, am.SID(g.Sid.String()))
			}
		}
	}
	// cordon's sandbox token is WRITE_RESTRICTED whenever it is restricted.
	mt.WriteRestricted = len(mt.Restricting) > 0
	mt.Privileges = []string{am.SeChangeNotify}
	return mt, nil
}

// modelSD reads an object's owner and DACL into the model's form.
func modelSD(path string) (*am.SD, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return nil, err
	}
	out := &am.SD{}
	if o, _, err := sd.Owner(); err == nil && o != nil {
		out.Owner = am.SID(o.String())
	}
	acl, _, err := sd.DACL()
	if err != nil || acl == nil {
		out.NullDACL = true
		return out, nil
	}
	hdr := unsafe.Slice((*byte)(unsafe.Pointer(acl)), 8)
	aces, err := winplan.DecodeACL(unsafe.Slice((*byte)(unsafe.Pointer(acl)), int(hdr[2])|int(hdr[3])<<8))
	if err != nil {
		return nil, err
	}
	for _, a := range aces {
		if a.Type == winplan.Other {
			continue
		}
		t := am.Allowed
		if a.Type == winplan.Deny {
			t = am.Denied
		}
		out.DACL = append(out.DACL, am.ACE{Type: t, Flags: am.AceFlags(a.Flags), Mask: am.Mask(a.Mask), SID: am.SID(a.SID)})
	}
	return out, nil
}
