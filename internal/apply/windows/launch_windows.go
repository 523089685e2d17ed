package windows

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

// newJob creates an unnamed, non-inheritable job object with spec's limits.
// Only cordon holds a handle to it, so when cordon exits or dies the handle
// closes and KILL_ON_JOB_CLOSE ends every process in it.
func newJob(spec winplan.JobSpec) (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("CreateJobObject: %w", err)
	}
	limits := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags:         spec.LimitFlags,
			ActiveProcessLimit: spec.ActiveProcessLimit,
		},
	}
	if spec.JobMemoryLimit > 0 {
		limits.JobMemoryLimit = uintptr(min(spec.JobMemoryLimit, uint64(^uintptr(0))))
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&limits)), uint32(unsafe.Sizeof(limits))); err != nil {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("setting the job's limits: %w", err)
	}
	ui := windows.JOBOBJECT_BASIC_UI_RESTRICTIONS{UIRestrictionsClass: spec.UIRestrictions}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectBasicUIRestrictions,
		uintptr(unsafe.Pointer(&ui)), uint32(unsafe.Sizeof(ui))); err != nil {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("setting the job's UI restrictions: %w", err)
	}
	return job, nil
}

// inheritable returns an inheritable duplicate of f's handle, or of the null
// device's when f is nil.
func inheritable(f *os.File, write bool) (windows.Handle, error) {
	if f == nil {
		name, _ := windows.UTF16PtrFromString("NUL")
		access := uint32(windows.GENERIC_READ)
		if write {
			access = windows.GENERIC_WRITE
		}
		sa := windows.SecurityAttributes{InheritHandle: 1}
		sa.Length = uint32(unsafe.Sizeof(sa))
		return windows.CreateFile(name, access, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, &sa, windows.OPEN_EXISTING, 0, 0)
	}
	var dup windows.Handle
	cur := windows.CurrentProcess()
	err := windows.DuplicateHandle(cur, windows.Handle(f.Fd()), cur, &dup, 0, true, windows.DUPLICATE_SAME_ACCESS)
	runtime.KeepAlive(f)
	return dup, err
}

// process is a started command, suspended or running, inside its job.
type process struct {
	job     windows.Handle
	process windows.Handle
	pid     uint32
}

// start creates the command's process with token, suspended, hands it only
// the three stdio handles, assigns it to job and only then lets it run, so
// no instruction of the command ever executes outside the job. withoutJob is
// for tests that show what the job prevents.
func start(token windows.Token, job windows.Handle, desktopName string, app string, cmdline string, env []uint16, dir string, stdio [3]*os.File, withoutJob bool) (*process, error) {
	var handles []windows.Handle
	defer func() {
		for _, h := range handles {
			windows.CloseHandle(h)
		}
	}()
	for i, f := range stdio {
		h, err := inheritable(f, i > 0)
		if err != nil {
			return nil, fmt.Errorf("preparing stdio handle %d: %w", i, err)
		}
		handles = append(handles, h)
	}
	attrs, err := windows.NewProcThreadAttributeList(1)
	if err != nil {
		return nil, fmt.Errorf("NewProcThreadAttributeList: %w", err)
	}
	defer attrs.Delete()
	if err := attrs.Update(windows.PROC_THREAD_ATTRIBUTE_HANDLE_LIST, unsafe.Pointer(&handles[0]),
		uintptr(len(handles))*unsafe.Sizeof(handles[0])); err != nil {
		return nil, fmt.Errorf("setting the inherited handle list: %w", err)
	}
	desktop, err := windows.UTF16PtrFromString(desktopName)
	if err != nil {
		return nil, err
	}
	si := windows.StartupInfoEx{
		StartupInfo: windows.StartupInfo{
			Flags:     windows.STARTF_USESTDHANDLES,
			StdInput:  handles[0],
			StdOutput: handles[1],
			StdErr:    handles[2],
			Desktop:   desktop,
		},
		ProcThreadAttributeList: attrs.List(),
	}
	si.Cb = uint32(unsafe.Sizeof(si))
	app16, err := windows.UTF16PtrFromString(app)
	if err != nil {
		return nil, err
	}
	cmd16, err := windows.UTF16PtrFromString(cmdline)
	if err != nil {
		return nil, err
	}
	dir16, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return nil, err
	}
	var pi windows.ProcessInformation
	err = windows.CreateProcessAsUser(token, app16, cmd16, nil, nil, true, winplan.CreationFlags,
		&env[0], dir16, &si.StartupInfo, &pi)
	runtime.KeepAlive(handles)
	runtime.KeepAlive(env)
	if err != nil {
		return nil, fmt.Errorf("CreateProcessAsUser %s: %w", app, err)
	}
	defer windows.CloseHandle(pi.Thread)
	if !withoutJob {
		if err := windows.AssignProcessToJobObject(job, pi.Process); err != nil {
			windows.TerminateProcess(pi.Process, 1)
			windows.CloseHandle(pi.Process)
			return nil, fmt.Errorf("putting the command in its job object (it never ran): %w", err)
		}
	}
	if _, err := windows.ResumeThread(pi.Thread); err != nil {
		windows.TerminateJobObject(job, 1)
		windows.TerminateProcess(pi.Process, 1)
		windows.CloseHandle(pi.Process)
		return nil, fmt.Errorf("ResumeThread: %w", err)
	}
	return &process{job: job, process: pi.Process, pid: pi.ProcessId}, nil
}

// wait waits for the command's first process to exit, the timeout to pass
// or ctx to end, then kills whatever is left in the job: when the command
// ends, nothing it started keeps running.
func (p *process) wait(ctx context.Context, timeout time.Duration) (Result, error) {
	defer windows.CloseHandle(p.process)
	begin := time.Now()
	exited := make(chan error, 1)
	go func() {
		_, err := windows.WaitForSingleObject(p.process, windows.INFINITE)
		exited <- err
	}()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	var res Result
	var ctxErr error
	select {
	case err := <-exited:
		if err != nil {
			windows.TerminateJobObject(p.job, 1)
			return res, fmt.Errorf("waiting for the command: %w", err)
		}
	case <-expired:
		res.TimedOut = true
	case <-ctx.Done():
		ctxErr = context.Cause(ctx)
	}
	// Kill the rest of the tree (on timeout or cancellation, the command too).
	terr := windows.TerminateJobObject(p.job, ExitTimeout)
	if res.TimedOut || ctxErr != nil {
		if err := <-exited; err != nil {
			return res, fmt.Errorf("waiting for the killed command: %w", err)
		}
	}
	res.Duration = time.Since(begin)
	if ctxErr != nil {
		return res, ctxErr
	}
	if res.TimedOut {
		res.ExitCode = ExitTimeout
		return res, terrOrNil(terr)
	}
	var code uint32
	if err := windows.GetExitCodeProcess(p.process, &code); err != nil {
		return res, fmt.Errorf("reading the command's exit code: %w", err)
	}
	res.ExitCode = int(code)
	return res, terrOrNil(terr)
}

// terrOrNil reports a failure to kill the job's remaining processes. They
// die anyway when the caller closes the job handle (KILL_ON_JOB_CLOSE), but
// the failure is not hidden.
func terrOrNil(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("ending the command's remaining processes: %w", err)
}

var (
	procCreateDesktopW = windows.NewLazySystemDLL("user32.dll").NewProc("CreateDesktopW")
	procCloseDesktop   = windows.NewLazySystemDLL("user32.dll").NewProc("CloseDesktop")
)

// createDesktop creates the run's desktop in the interactive window station
// with spec's DACL, and returns its handle (closed by closeDesktop).
func createDesktop(spec winplan.DesktopSpec) (uintptr, error) {
	b, err := winplan.EncodeACL(spec.DACL)
	if err != nil {
		return 0, err
	}
	buf := make([]uint32, (len(b)+3)/4)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(b)), b)
	sd, err := windows.NewSecurityDescriptor()
	if err != nil {
		return 0, err
	}
	if err := sd.SetDACL((*windows.ACL)(unsafe.Pointer(&buf[0])), true, false); err != nil {
		return 0, err
	}
	sa := windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(sa))
	name, err := windows.UTF16PtrFromString(spec.Name)
	if err != nil {
		return 0, err
	}
	h, _, e := procCreateDesktopW.Call(uintptr(unsafe.Pointer(name)), 0, 0, 0, uintptr(windows.GENERIC_ALL), uintptr(unsafe.Pointer(&sa)))
	runtime.KeepAlive(buf)
	runtime.KeepAlive(sd)
	if h == 0 {
		return 0, fmt.Errorf("CreateDesktopW %s: %w", spec.Name, e)
	}
	return h, nil
}

func closeDesktop(h uintptr) {
	if h != 0 {
		procCloseDesktop.Call(h)
	}
}
