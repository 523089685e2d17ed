// Command warm measures what one command costs through the Go API: bare
// fork+exec, a cold sandbox.Run, and a warm sandbox.Session, side by side
// and interleaved so that they share the machine's noise.
//
// Usage: go run ./bench/warm [-n RUNS] [-workspace DIR] [CMD ARGS...]
// (default command /bin/true). WARM_PHASES=1 also prints the median time of
// each phase of the warm runs; WARM_ONLY=1 runs only the warm commands
// (-cpuprofile FILE to profile them). As root or as a user with
// unprivileged user namespaces; the workspace defaults to a fresh directory under /var/tmp.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

func main() {
	sandbox.Init()
	n := flag.Int("n", 100, "runs of each")
	ws := flag.String("workspace", "", "workspace (default: a fresh directory)")
	profile := flag.String("cpuprofile", "", "with WARM_ONLY: write a CPU profile of the warm runs to this file")
	flag.Parse()
	argv := flag.Args()
	if len(argv) == 0 {
		argv = []string{"/bin/true"}
	}
	if *ws == "" {
		dir, err := os.MkdirTemp("/var/tmp", "cordon-warm-")
		check(err)
		defer os.RemoveAll(dir)
		*ws = dir
	}
	real, err := filepath.EvalSymlinks(*ws)
	check(err)
	home, _ := os.UserHomeDir()
	p, err := policy.Load(policy.Options{Workspace: real, Home: home, NoUserFile: true})
	check(err)
	req := sandbox.Request{Policy: p, Workspace: real, Argv: argv, Environ: os.Environ(), Home: home}
	s := sandbox.NewSession()
	defer s.Close()
	ctx := context.Background()
	// One of each first: the warm sandbox is built, caches are filled.
	for _, f := range []func() error{
		func() error { return exec.Command(argv[0], argv[1:]...).Run() },
		func() error { _, err := sandbox.Run(ctx, req); return err },
		func() error { _, err := s.Run(ctx, req); return err },
	} {
		check(f())
	}
	if os.Getenv("WARM_CLOSE") != "" {
		t := time.Now()
		s.Close()
		fmt.Println("close took", time.Since(t))
		return
	}
	if os.Getenv("WARM_ONLY") != "" { // for profiling the warm path
		if *profile != "" {
			f, err := os.Create(*profile)
			check(err)
			check(pprof.StartCPUProfile(f))
			defer pprof.StopCPUProfile()
		}
		for range *n {
			_, err := s.Run(ctx, req)
			check(err)
		}
		return
	}
	var bare, cold, warm []time.Duration
	warmPhases := map[string][]time.Duration{}
	var phaseOrder []string
	for range *n {
		t := time.Now()
		check(exec.Command(argv[0], argv[1:]...).Run())
		bare = append(bare, time.Since(t))
		t = time.Now()
		_, err := sandbox.Run(ctx, req)
		check(err)
		cold = append(cold, time.Since(t))
		t = time.Now()
		res, err := s.Run(ctx, req)
		check(err)
		warm = append(warm, time.Since(t))
		for _, ph := range res.Phases {
			if _, ok := warmPhases[ph.Name]; !ok {
				phaseOrder = append(phaseOrder, ph.Name)
			}
			warmPhases[ph.Name] = append(warmPhases[ph.Name], ph.At)
		}
	}
	if os.Getenv("WARM_PHASES") != "" {
		fmt.Println("  warm phases, median since the call:")
		for _, name := range phaseOrder {
			ds := warmPhases[name]
			slices.Sort(ds)
			fmt.Printf("    %-24s %v (%d runs)\n", name, ds[len(ds)/2].Round(time.Microsecond), len(ds))
		}
	}
	fmt.Printf("%d runs each of %v, interleaved; median (mean)\n", *n, argv)
	b := stats("bare fork+exec", bare, 0)
	stats("cold sandbox.Run", cold, b)
	stats("warm sandbox.Session", warm, b)
}

func stats(name string, ds []time.Duration, bare time.Duration) time.Duration {
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	med := ds[len(ds)/2]
	added := ""
	if bare > 0 {
		added = fmt.Sprintf("  added %v", (med - bare).Round(time.Microsecond))
	}
	fmt.Printf("  %-22s %9v (%v)%s\n", name, med.Round(time.Microsecond), (sum / time.Duration(len(ds))).Round(time.Microsecond), added)
	return med
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "warm:", err)
		os.Exit(1)
	}
}
