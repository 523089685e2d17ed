package windows

import (
	"errors"
	"sync"

	"golang.org/x/sys/windows"

	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

// Wine runs Windows programs on other systems. It implements the calls this
// package makes but enforces none of them: tokens are not restricted, ACLs
// are not checked, SetNamedSecurityInfo succeeds without storing the DACL,
// and a token's restricting SIDs cannot be read back. So under Wine the
// sandbox refuses to run, except in this package's own tests, which set
// acceptWine to exercise the launch path and prove plumbing, not security.
var acceptWine = false

var procWineGetVersion = windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")

// underWine reports whether this process runs under Wine, which exports
// wine_get_version from its ntdll.
func underWine() bool {
	return procWineGetVersion.Find() == nil
}

// errWine refuses to pretend to sandbox under Wine.
var errWine = errors.New("cordon is running under Wine, which enforces no Windows token, ACL or job " +
	"restriction; the Windows sandbox refuses to run here: run cordon's Linux build on this machine instead")

// fileSystem is the file system Prepare and Cleanup work on: Win32, or under
// Wine (tests only) Win32 with the DACLs written in this process remembered,
// because Wine drops them and Reconcile reads each one back.
func fileSystem() interface {
	winplan.FS
	winplan.Writer
} {
	if acceptWine && underWine() {
		return &wineFS{written: map[winplan.Object]winplan.DACL{}}
	}
	return winFS{}
}

type wineFS struct {
	winFS
	mu      sync.Mutex
	written map[winplan.Object]winplan.DACL
}

func (w *wineFS) WriteDACL(obj winplan.Object, d winplan.DACL) error {
	if err := w.winFS.WriteDACL(obj, d); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.written[obj] = d
	return nil
}

func (w *wineFS) ReadDACL(obj winplan.Object) (winplan.DACL, error) {
	d, err := w.winFS.ReadDACL(obj)
	if err != nil {
		return d, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if last, ok := w.written[obj]; ok {
		return last, nil
	}
	return d, nil
}
