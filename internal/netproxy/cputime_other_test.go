//go:build !unix

package netproxy

import "time"

// processCPU is unavailable here; the benchmark then leaves out the CPU
// metric.
func processCPU() (time.Duration, bool) { return 0, false }
