package linuxinit

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// BridgeFD is the init's end of the socket that carries the bridge's
// accepted connections, as file descriptors, to the proxy outside.
const BridgeFD = 4

// startBridge listens on 127.0.0.1:port and [::1]:port inside the network
// namespace and hands every connection to the supervisor's proxy: the
// namespace has no other way out. IPv6 loopback may be unavailable; IPv4 is
// required.
func startBridge(port int) error {
	lc := net.ListenConfig{}
	lc.SetMultipathTCP(false)
	l4, err := lc.Listen(context.Background(), "tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1:%d for the proxy bridge: %w", port, err)
	}
	go forward(l4)
	if l6, err := lc.Listen(context.Background(), "tcp6", fmt.Sprintf("[::1]:%d", port)); err == nil {
		go forward(l6)
	}
	return nil
}

// forward passes each accepted connection's descriptor to the supervisor.
func forward(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		f, err := c.(*net.TCPConn).File()
		c.Close()
		if err != nil {
			continue
		}
		err = unix.Sendmsg(BridgeFD, []byte{1}, unix.UnixRights(int(f.Fd())), nil, 0)
		f.Close()
		if err == syscall.EPIPE || err == syscall.ECONNREFUSED || err == syscall.EBADF {
			os.Exit(125) // the supervisor is gone
		}
	}
}
