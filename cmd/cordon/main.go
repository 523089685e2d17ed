// Command cordon runs an AI agent's commands inside an OS-enforced sandbox,
// decided by a policy and recorded in an audit trail.
//
// The same binary also serves as the sandbox's init process: sandbox.Init
// takes over when the binary was re-executed for that role and never returns
// then. Anything that embeds cordon's sandbox as a library must call it first
// in main as well.
package main

import (
	"os"

	"github.com/cordon-sandbox/cordon/internal/cli"
	"github.com/cordon-sandbox/cordon/sandbox"
)

func main() {
	sandbox.Init()
	os.Exit(cli.Main(os.Args[1:]))
}
