package darwin

import "syscall"

// maxRSSKiB converts ru_maxrss, which Linux counts in KiB. (Linux builds
// the watcher only for its tests.)
func maxRSSKiB(ru *syscall.Rusage) int64 { return ru.Maxrss }
