// Package testbin builds the binaries that end-to-end tests run: cordon
// itself, and the small probe programs some tests put inside the sandbox.
// One place, so that every test builds them the same way (CGO_ENABLED=0, in
// a directory every user can read, outside the sandbox's private /tmp).
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Base holds test files. Not /tmp: the sandbox has a private /tmp, so host
// paths there would not exist inside, and a probe would "fail to escape" for
// the wrong reason.
const Base = "/var/tmp"

// Cordon is the import path of cordon's main package.
const Cordon = "github.com/cordon-sandbox/cordon/cmd/cordon"

// Main builds each package (import path or ./relative dir) to a binary named
// after the map key, runs the tests and removes the binaries; use it as
// TestMain's body. It returns the binaries' paths by name through paths.
// Each check runs after the build and before the tests; one that fails ends
// the run with its message (for example: no sandbox works on this machine).
func Main(m *testing.M, paths map[string]*string, packages map[string]string, checks ...func() error) {
	dir, err := os.MkdirTemp(Base, "cordon-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbin:", err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755)
	for name, pkg := range packages {
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, b)
			os.RemoveAll(dir)
			os.Exit(1)
		}
		*paths[name] = out
	}
	for _, check := range checks {
		if err := check(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// RequireEnv, set to 1 (as .ci/run does), turns every skip for a missing
// tool into a failure: CI installs everything, so a skip there would hide a
// test that never ran. On a developer's fresh machine the tests skip and say
// what to install.
const RequireEnv = "CORDON_REQUIRE_ALL"

// RequireOrSkip skips the test with why, or fails it under RequireEnv.
func RequireOrSkip(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatal(why + " (" + RequireEnv + "=1: nothing may be skipped)")
	}
	t.Skip(why)
}
