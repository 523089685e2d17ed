package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/internal/netproxy"
)

func newProxyCmd() *cobra.Command {
	var (
		listen     string
		socket     string
		policyFile string
		allowHosts []string
	)
	cmd := &cobra.Command{
		Use:   "proxy [flags]",
		Short: "Run cordon's filtering network proxy on its own",
		Long: `cordon proxy runs the filtering proxy that sandboxed commands reach the
network through, on its own, for trying rules out or for tools outside a
sandbox. One port speaks HTTP (absolute-form requests and CONNECT) and
SOCKS5. Only hosts the rules allow are reached; see docs/network.md.

The rules come from the [network] section of --policy FILE (other sections
are ignored) plus every --allow-host. If the file sets no mode, the mode is
"proxy".

On a TCP address the proxy is protected by a secret drawn for this run: the
proxy URL printed on stdout carries it as the password, and a client without
it is refused. A unix socket (--socket) needs no secret; keep it in a
directory only you can enter.

stdout gets the proxy URL, once. stderr gets one JSON line per connection
when it ends, and a summary line when the proxy stops (Ctrl-C or SIGTERM).`,
		Example: `  # Allow two hosts, listen on a free loopback port:
  cordon proxy --allow-host github.com --allow-host registry.npmjs.org

  # Use it from another shell (the URL carries the secret):
  export HTTPS_PROXY=http://cordon:SECRET@127.0.0.1:PORT
  curl https://github.com/

  # Rules from a policy file, on a unix socket:
  cordon proxy --policy cordon.toml --socket /run/user/1000/cordon/proxy.sock

  # ssh to a git host on port 22 through the proxy:
  cordon proxy --allow-host github.com:22`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if socket != "" && cmd.Flags().Changed("listen") {
				return &usageError{msg: "--listen and --socket exclude each other", hint: "choose a loopback TCP address or a unix socket path"}
			}
			cfg, err := proxyRules(policyFile, allowHosts)
			if err != nil {
				return err
			}
			return runProxy(cmd.Context(), cfg, listen, socket, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "127.0.0.1:0", "loopback address and port to listen on (port 0 picks a free one)")
	fl.StringVar(&socket, "socket", "", "listen on a unix socket at this path instead, without a secret")
	fl.StringVar(&policyFile, "policy", "", "TOML file whose [network] section holds the rules")
	fl.StringArrayVar(&allowHosts, "allow-host", nil, "allow HOST, HOST:PORT or *.SUFFIX for this run (repeatable; without a port: 80 and 443)")
	return cmd
}

// proxyRules reads the [network] section of file, if given, and adds the
// --allow-host entries.
func proxyRules(file string, allowHosts []string) (netproxy.Config, error) {
	var cfg netproxy.Config
	if file != "" {
		var err error
		if cfg, err = readNetworkSection(file); err != nil {
			return cfg, err
		}
	}
	cfg.Allow = append(cfg.Allow, allowHosts...)
	if cfg.Mode == "" {
		cfg.Mode = netproxy.ModeProxy
	}
	if err := cfg.Validate(); err != nil {
		where := "the rules"
		if file != "" {
			where = file
		}
		return cfg, &usageError{err: fmt.Errorf("invalid network rules in %s: %w", where, err), hint: "see docs/network.md for the syntax of each key"}
	}
	return cfg, nil
}

// readNetworkSection decodes the [network] section of a policy file. Unknown
// keys inside it are errors; other sections belong to the rest of the
// policy and are not this command's business.
func readNetworkSection(path string) (netproxy.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return netproxy.Config{}, fmt.Errorf("reading the rules: %w", err)
	}
	var doc struct {
		Network netproxy.Config `toml:"network"`
	}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(&doc)
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var unknown []string
		for i := range strict.Errors {
			e := &strict.Errors[i]
			if key := e.Key(); len(key) > 0 && key[0] == "network" {
				line, _ := e.Position()
				unknown = append(unknown, fmt.Sprintf("%s:%d: unknown key %s", path, line, strings.Join(key, ".")))
			}
		}
		if len(unknown) == 0 {
			return doc.Network, nil
		}
		return netproxy.Config{}, &usageError{msg: strings.Join(unknown, "; "),
			hint: "the [network] keys are mode, presets, allow, allow_private, tcp, deny and unlisted; see docs/network.md"}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return netproxy.Config{}, &usageError{msg: fmt.Sprintf("%s:%d:%d: %s", path, line, col, strings.TrimPrefix(de.Error(), "toml: ")),
			hint: "the file must be TOML; see docs/network.md for the [network] section"}
	}
	if err != nil {
		return netproxy.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return doc.Network, nil
}

func runProxy(ctx context.Context, cfg netproxy.Config, listen, socket string, stdout, stderr io.Writer) error {
	var logMu sync.Mutex
	logLine := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			return
		}
		logMu.Lock()
		defer logMu.Unlock()
		stderr.Write(append(b, '\n'))
	}
	srv, err := netproxy.New(cfg, netproxy.Options{OnEvent: func(ev netproxy.ConnEvent) { logLine(ev) }})
	if err != nil {
		return err
	}
	var l net.Listener
	var where string
	if socket != "" {
		l, err = netproxy.ListenUnix(socket)
		where = "unix:" + socket
		defer os.Remove(socket)
	} else {
		var ll *netproxy.LoopbackListener
		ll, err = netproxy.ListenLoopback(listen)
		if err == nil {
			l, where = ll, ll.URL()
		}
	}
	if err != nil {
		return &usageError{msg: err.Error(), hint: "pick another --listen port or --socket path"}
	}
	if cfg.Mode == netproxy.ModeOff {
		fmt.Fprintln(stderr, `cordon: warning: the rules set network.mode = "off": every connection will be refused`)
	}
	fmt.Fprintln(stdout, where)

	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	srv.Close()
	logLine(struct {
		Summary netproxy.Summary `json:"summary"`
	}{srv.Summary()})
	if err != nil && !errors.Is(err, netproxy.ErrServerClosed) {
		return fmt.Errorf("proxy: %w", err)
	}
	return nil
}

// newConnectCmd is `cordon __connect HOST PORT`, the ProxyCommand that
// netproxy.SSHCommand puts in GIT_SSH_COMMAND inside the sandbox. It is
// hidden: people do not type it.
func newConnectCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "__connect HOST PORT",
		Short:  "Tunnel stdin and stdout to HOST:PORT through the proxy in ALL_PROXY or HTTPS_PROXY",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			port, err := strconv.Atoi(args[1])
			if err != nil || port < 1 || port > 65535 {
				return &usageError{msg: fmt.Sprintf("port %q is not a number from 1 to 65535", args[1]), hint: "ssh passes it as %p in ProxyCommand"}
			}
			// Bound only the time to open the tunnel; the session itself
			// lasts as long as ssh wants.
			dialCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return netproxy.ConnectStdio(dialCtx, os.Getenv, args[0], port, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
}
