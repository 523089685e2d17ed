//go:build darwin

package darwin

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
)

// pcCaseSensitive is _PC_CASE_SENSITIVE of <sys/unistd.h>.
const pcCaseSensitive = 11

// Facts are what the planner needs to know about this Mac.
type Facts struct {
	UserProcesses   int
	CaseInsensitive bool
	Stdio           []macplan.Stdio
}

// HostFacts reads the facts for a run in workspace with these standard
// descriptors.
func HostFacts(workspace string, stdio ...*os.File) Facts {
	f := Facts{UserProcesses: userProcesses(), CaseInsensitive: caseInsensitive(workspace)}
	for i, file := range stdio {
		if file == nil {
			continue
		}
		fd := int(file.Fd())
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil {
			continue
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR, unix.S_IFREG:
		default:
			continue // pipes and sockets have no path a rule could name
		}
		p, err := fdPath(fd)
		if err != nil {
			continue
		}
		_, terr := unix.IoctlGetTermios(fd, unix.TIOCGETA)
		f.Stdio = append(f.Stdio, macplan.Stdio{FD: i, Path: p, Terminal: terr == nil})
	}
	return f
}

// caseInsensitive reports whether the volume holding dir ignores case. When
// it cannot tell it says yes: patterns then match more, never less.
func caseInsensitive(dir string) bool {
	v, err := unix.Pathconf(dir, pcCaseSensitive)
	if err != nil {
		return true
	}
	return v == 0
}

// SystemVersion is the macOS version (sw_vers -productVersion).
func SystemVersion() string {
	v, err := unix.Sysctl("kern.osproductversion")
	if err != nil {
		return "unknown"
	}
	return v
}

// CheckSandboxExec says whether sandbox-exec is where macOS keeps it.
func CheckSandboxExec() error {
	st, err := os.Stat(macplan.SandboxExec)
	if err != nil {
		return err
	}
	if st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", macplan.SandboxExec)
	}
	return nil
}
