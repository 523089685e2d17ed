package cmdrules

import (
	"slices"
	"strings"
)

// The built-in risk categories. Every built-in rule belongs to one, and each
// defaults to Ask.
const (
	// CategorySecretAccess: commands that print or copy credentials.
	CategorySecretAccess = "secret-access"
	// CategoryDependencyInstall: package installs, which download code and
	// usually run its install scripts.
	CategoryDependencyInstall = "dependency-install"
	// CategoryDatabaseWrite: database clients given a statement that writes,
	// or an interactive session whose statements cannot be seen.
	CategoryDatabaseWrite = "database-write"
	// CategoryDeploy: commands that change deployed infrastructure.
	CategoryDeploy = "deploy"
	// CategoryPRMerge: merging pull requests, force pushes and pushes to
	// protected branches.
	CategoryPRMerge = "pr-merge"
	// CategoryNetworkUnfamiliar has no command rules: the network proxy uses
	// it for a connection to a host the network policy does not name.
	CategoryNetworkUnfamiliar = "network-unfamiliar"
	// CategoryUndecidable: commands cordon cannot judge from the command line
	// (a program only known at run time, eval, a script read from a file,
	// ...). Its rules are at least Ask.
	CategoryUndecidable = "undecidable"
)

// Categories lists the built-in categories.
func Categories() []string {
	return []string{CategorySecretAccess, CategoryDependencyInstall, CategoryDatabaseWrite,
		CategoryDeploy, CategoryPRMerge, CategoryNetworkUnfamiliar, CategoryUndecidable}
}

// IsCategory reports whether s is a built-in category.
func IsCategory(s string) bool { return slices.Contains(Categories(), s) }

// BuiltinNames lists the names of cordon's built-in command rules, in the
// order `cordon policy show` lists them. A name is its category, '/', and
// the rule's own name ("deploy/kubectl"). The rules themselves (what each
// matches) are in the command analyser, internal/cmdpolicy, whose tests
// check that this list names exactly its rules, in its order.
func BuiltinNames() []string { return slices.Clone(builtinNames[:]) }

// IsBuiltinName reports whether name is the name of a built-in rule.
func IsBuiltinName(name string) bool { return slices.Contains(builtinNames[:], name) }

// CategoryOf returns the category of a built-in rule name: the part before
// the first '/', or "" if name has none.
func CategoryOf(name string) string {
	c, _, ok := strings.Cut(name, "/")
	if !ok {
		return ""
	}
	return c
}

// builtinNames is an array of constants, which the compiler lays out
// statically: the sandbox's init links this package, and a table built at
// program start would cost every sandboxed command.
var builtinNames = [...]string{
	// undecidable
	"undecidable/dynamic-command",
	"undecidable/eval",
	"undecidable/script-file",
	"undecidable/shell-function",
	"undecidable/alias",
	"undecidable/loads-code",
	"undecidable/look-alike",
	"undecidable/unparsable",

	// secret-access
	"secret-access/read-secret-file",
	"secret-access/gh-auth-token",
	"secret-access/gh-auth-status-token",
	"secret-access/aws-configure-get",
	"secret-access/aws-token",
	"secret-access/gcloud-print-token",
	"secret-access/gcloud-adc-token",
	"secret-access/az-access-token",
	"secret-access/macos-keychain",
	"secret-access/secret-tool",
	"secret-access/kubectl-config-raw",
	"secret-access/kubectl-secrets",
	"secret-access/git-credential",
	"secret-access/password-manager",
	"secret-access/gpg-export-secret",

	// dependency-install
	"dependency-install/npm",
	"dependency-install/npm-audit-fix",
	"dependency-install/pnpm",
	"dependency-install/yarn",
	"dependency-install/yarn-bare",
	"dependency-install/yarn-global",
	"dependency-install/bun",
	"dependency-install/deno",
	"dependency-install/pip",
	"dependency-install/uv",
	"dependency-install/uv-pip",
	"dependency-install/uv-tool",
	"dependency-install/poetry",
	"dependency-install/pipenv",
	"dependency-install/pdm",
	"dependency-install/pipx",
	"dependency-install/conda",
	"dependency-install/go",
	"dependency-install/go-run-remote",
	"dependency-install/cargo",
	"dependency-install/gem",
	"dependency-install/bundle",
	"dependency-install/bundle-bare",
	"dependency-install/composer",
	"dependency-install/apt",
	"dependency-install/dnf",
	"dependency-install/apk",
	"dependency-install/pacman",
	"dependency-install/brew",
	"dependency-install/snap",
	"dependency-install/nix",
	"dependency-install/nix-profile",
	"dependency-install/dotnet",
	"dependency-install/mix",
	"dependency-install/cocoapods",

	// database-write
	"database-write/psql",
	"database-write/mysql",
	"database-write/sqlite3",
	"database-write/mongosh",
	"database-write/redis-cli",
	"database-write/pg-tools",
	"database-write/migrate",
	"database-write/mysqladmin",

	// deploy
	"deploy/kubectl",
	"deploy/kubectl-rollout",
	"deploy/helm",
	"deploy/terraform",
	"deploy/terraform-state",
	"deploy/terragrunt",
	"deploy/pulumi",
	"deploy/gcloud",
	"deploy/aws",
	"deploy/aws-cloudformation",
	"deploy/aws-service",
	"deploy/az",
	"deploy/fly",
	"deploy/vercel-prod",
	"deploy/vercel",
	"deploy/netlify",
	"deploy/serverless",
	"deploy/docker-push",
	"deploy/docker-image-push",
	"deploy/docker-build-push",
	"deploy/docker-compose-push",
	"deploy/docker-compose-v1-push",
	"deploy/package-publish",
	"deploy/cloud-storage-write",

	// pr-merge
	"pr-merge/gh-pr-merge",
	"pr-merge/gh-api-merge",
	"pr-merge/gh-api-graphql-merge",
	"pr-merge/glab-mr-merge",
	"pr-merge/git-push-force",
	"pr-merge/git-push-protected",
}
