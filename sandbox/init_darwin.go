package sandbox

import applydarwin "github.com/cordon-sandbox/cordon/internal/apply/darwin"

// Init takes over the process when the binary was re-executed as a run's
// watcher or as the shim inside the sandbox, and never returns then;
// otherwise it returns at once.
func Init() {
	applydarwin.Main()
}
