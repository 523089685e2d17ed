//go:build unix

package netproxy

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) this process has used; the
// throughput benchmark reports it per GiB, a cost that the other load on a
// shared machine disturbs less than wall-clock throughput.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
