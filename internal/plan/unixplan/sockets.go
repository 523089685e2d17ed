package unixplan

import (
	"fmt"

	"github.com/cordon-sandbox/cordon/policy"
)

// SocketGrants returns the host sockets granted (filesystem.host_sockets),
// resolved, without duplicates; absent ones and those that are no socket
// are left out (there is nothing to reach). It refuses a socket inside a
// denied path.
func (h Host) SocketGrants(grants []policy.Item, denied []string) ([]string, error) {
	var out []string
	for _, it := range grants {
		real, ok, err := h.FS.Resolve(it.Value)
		if err != nil || !ok {
			continue
		}
		if info, err := h.FS.Lstat(real); err != nil || info.Kind != KindSocket {
			continue
		}
		if d := RootOf(real, denied); d != "" {
			return nil, &InputError{Msg: fmt.Sprintf("the host socket %s (from %s) lies in the denied path %s", real, it.From, d),
				Fix: "allow the directory with filesystem.allow_read, or grant a socket outside denied paths"}
		}
		out = append(out, real)
	}
	return Dedupe(out), nil
}
