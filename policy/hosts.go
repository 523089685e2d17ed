package policy

import "github.com/cordon-sandbox/cordon/policy/netpolicy"

// WithAllowedHosts returns a copy of p whose network also allows hosts
// (HOST[:PORT] entries, as in network.allow), switching a policy with no
// network to the proxy; from says who granted them (the --allow-host flag,
// or a human's approval of one command). p itself is unchanged. A full
// network stays as it is: it already reaches every host.
func (p *Policy) WithAllowedHosts(hosts []string, from Source) (*Policy, error) {
	net, err := allowHosts(p.Network.Value, hosts)
	if err != nil {
		return nil, err
	}
	c := *p
	c.Network = Value[netpolicy.Config]{net, from}
	return &c, nil
}

func allowHosts(net netpolicy.Config, hosts []string) (netpolicy.Config, error) {
	net.Allow = append(append([]string{}, net.Allow...), hosts...)
	if net.Mode == "" || net.Mode == netpolicy.ModeOff {
		net.Mode = netpolicy.ModeProxy
	}
	return net, net.Validate()
}
