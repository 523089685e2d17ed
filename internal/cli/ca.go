package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/internal/netproxy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

func newCACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Show or replace cordon's local CA (for credentials the proxy injects)",
		Long: `cordon's proxy puts a credential with an inject table into requests to the
hosts it names, so that the secret never enters the sandbox. To see those
requests it ends the sandboxed client's TLS with a certificate for the host,
signed by a CA of your own that cordon makes on first use. Its key stays in
cordon's state directory, which no sandbox can read; sandboxed tools are
given its certificate only. See docs/network.md, "Interception".`,
	}
	cmd.AddCommand(newCAShowCmd(), newCARotateCmd())
	return cmd
}

func caHome() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", &usageError{msg: "cannot find your home directory", hint: "set HOME"}
	}
	if real, err := filepath.EvalSymlinks(home); err == nil {
		home = real
	}
	return home, nil
}

func newCAShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print cordon's CA certificate (never its key)",
		Long: `Print the CA certificate in PEM form on stdout, after comment lines with its
file, SHA-256 fingerprint and validity. The certificate is public: share it
with a tool outside the sandbox that should trust intercepted hosts too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := caHome()
			if err != nil {
				return err
			}
			ca, err := netproxy.LoadCA(sandbox.CADir(home))
			if errors.Is(err, fs.ErrNotExist) {
				return &usageError{msg: "cordon has no CA yet (" + sandbox.CADir(home) + ")",
					hint: "it is made on the first run with a credential that has an inject table, or now with `cordon ca rotate`"}
			}
			if err != nil {
				return &usageError{err: err, hint: "replace it with `cordon ca rotate`"}
			}
			printCA(cmd, ca)
			return nil
		},
	}
}

func newCARotateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "Replace cordon's CA by a new one",
		Long: `Make a new CA, replacing the old one (or making the first). Runs that have
started keep the CA they started with; later runs, and their sandboxes, use
the new one. Prints the new certificate as ` + "`cordon ca show`" + ` does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := caHome()
			if err != nil {
				return err
			}
			ca, err := netproxy.RotateCA(sandbox.CADir(home))
			if err != nil {
				return &usageError{err: err, hint: "check that cordon's state directory is yours and writable"}
			}
			printCA(cmd, ca)
			return nil
		},
	}
}

func printCA(cmd *cobra.Command, ca *netproxy.CA) {
	w := cmd.OutOrStdout()
	c := ca.Certificate()
	fmt.Fprintf(w, "# cordon's local CA: %s\n", c.Subject.CommonName)
	fmt.Fprintf(w, "# file: %s\n", ca.CertPath())
	fmt.Fprintf(w, "# sha256: %s\n", ca.Fingerprint())
	fmt.Fprintf(w, "# valid: %s to %s\n", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	w.Write(ca.CertPEM())
}
