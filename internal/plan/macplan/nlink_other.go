//go:build !unix

package macplan

import "io/fs"

func linkCount(fs.FileInfo) uint64 { return 1 }
