package sandbox

import (
	"os"

	"github.com/cordon-sandbox/cordon/internal/apply/linuxinit"
)

// Init takes over the process when the binary was re-executed as the
// sandbox's init, and never returns then; otherwise it returns at once.
func Init() {
	if len(os.Args) > 1 && os.Args[1] == linuxinit.InitArg {
		linuxinit.Main()
	}
}
