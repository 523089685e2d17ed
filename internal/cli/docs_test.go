package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/spf13/cobra"
)

// TestDocsListEveryCommand: every command a user can run (not hidden, not
// cobra's help) appears in docs/cli.md as `cordon PATH...`.
func TestDocsListEveryCommand(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			walk(sub)
		}
		if !c.HasParent() || c.HasSubCommands() {
			return // the root and the groups appear through their commands
		}
		n++
		path := c.CommandPath()
		re := regexp.MustCompile("`" + regexp.QuoteMeta(path) + "[` \\[]")
		if !re.Match(doc) {
			t.Errorf("docs/cli.md does not show %s (as `%s ...`)", path, path)
		}
	}
	walk(newRootCmd())
	if n < 15 {
		t.Errorf("found only %d commands; the walk misses some", n)
	}
}
