//go:build !linux

// Command veth measures cordon's proxy over a veth pair into a network
// namespace, which only Linux has; see main.go.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "veth: this benchmark needs Linux (network namespaces, veth, tc)")
	os.Exit(1)
}
