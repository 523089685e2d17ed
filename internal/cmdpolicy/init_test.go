package cmdpolicy

import (
	"bytes"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// The package must cost nothing at program start (see tables.go).
// TestInitAllocatesNothing checks it from outside: it runs this test binary
// again with GODEBUG=inittrace=1, under which the Go runtime reports every
// package's initialisation on standard error, and TestMain stops that child
// as soon as initialisation is over. It counts allocations, not time, so
// that a busy machine cannot make it fail.

const (
	// initProbeEnv, set in the environment, makes TestMain exit at once.
	initProbeEnv = "CMDPOLICY_INIT_PROBE"
	// eagerInitArg, given to the test binary, builds the tables during
	// package initialisation, as the package did before they were lazy: the
	// control run, which shows that the probe sees such a cost.
	eagerInitArg = "-cmdpolicy.eager-init"
	// maxInitAllocs leaves room for a trivial initialiser; building the
	// tables takes about 5,000 allocations.
	maxInitAllocs = 20
)

func TestMain(m *testing.M) {
	if os.Getenv(initProbeEnv) != "" {
		os.Exit(0) // only initialisation was to run; inittrace has reported it
	}
	buildTestPolicies()
	os.Exit(m.Run())
}

// This gives the package an initialisation step of its own in the test
// binary, so that inittrace always lists it (a package with nothing to
// initialise is left out), and builds the tables there for the control run.
var _ = buildTablesAtInitIfAsked()

func buildTablesAtInitIfAsked() bool {
	if slices.Contains(os.Args[1:], eagerInitArg) {
		tables()
	}
	return true
}

func TestInitAllocatesNothing(t *testing.T) {
	if n := initAllocs(t); n > maxInitAllocs {
		t.Errorf("initialising the package allocates %d times (at most %d allowed): a package-level variable "+
			"builds a table at program start; build it in tables() instead (tables.go)", n, maxInitAllocs)
	}
	if n := initAllocs(t, eagerInitArg); n <= maxInitAllocs {
		t.Errorf("control run with the tables built during initialisation: %d allocations, want more than %d; "+
			"the probe does not measure this package's initialisation", n, maxInitAllocs)
	}
}

// initAllocs runs this test binary with args up to the end of package
// initialisation and returns the allocations inittrace reports for this
// package.
func initAllocs(t *testing.T, args ...string) int {
	t.Helper()
	godebug := "inittrace=1"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + godebug
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), initProbeEnv+"=1", "GODEBUG="+godebug)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("running the test binary %s %v to trace its initialisation: %v\n%s", os.Args[0], args, err, stderr.Bytes())
	}
	// "init PKG @0.9 ms, 0.02 ms clock, 8984 bytes, 49 allocs"
	line := regexp.MustCompile(`(?m)^init (\S+) @.* ms clock, \d+ bytes, (\d+) allocs$`)
	pkg := reflect.TypeFor[Policy]().PkgPath()
	for _, m := range line.FindAllStringSubmatch(stderr.String(), -1) {
		if m[1] == pkg {
			n, err := strconv.Atoi(m[2])
			if err != nil {
				t.Fatalf("inittrace line for %s: %v", pkg, err)
			}
			return n
		}
	}
	t.Fatalf("GODEBUG=inittrace=1 printed no line for %s:\n%s", pkg, stderr.Bytes())
	return 0
}
