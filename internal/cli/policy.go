package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func newPolicyCmd() *cobra.Command {
	return &cobra.Command{
		Use: "policy",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("policy: under construction")
		},
	}
}
