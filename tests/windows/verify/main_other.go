//go:build !windows

// Command verify is cordon's verification kit for a real Windows host; see
// main.go and scripts/windows/README.md. On other systems it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "verify: cordon's Windows verification kit runs on Windows only (see scripts/windows/README.md)")
	os.Exit(2)
}
