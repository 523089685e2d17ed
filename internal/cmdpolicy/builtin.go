package cmdpolicy

import (
	"strings"
)

// builtinRule is a rule that ships with cordon.
type builtinRule struct {
	name     string
	category string
	reason   string
	// m decides whether the rule applies; nil for the undecidable rules,
	// which the analysis raises itself.
	m matcher
	// protected marks the rule whose matcher needs the policy's protected
	// branches; New builds it.
	protected bool
}

// Names of the rules the analysis raises itself.
const (
	ruleDynamicCommand = "undecidable/dynamic-command"
	ruleEval           = "undecidable/eval"
	ruleScriptFile     = "undecidable/script-file"
	ruleShellFunction  = "undecidable/shell-function"
	ruleAlias          = "undecidable/alias"
	ruleLoadsCode      = "undecidable/loads-code"
	ruleLookAlike      = "undecidable/look-alike"
	ruleUnparsable     = "undecidable/unparsable"

	ruleGitPushProtected = "pr-merge/git-push-protected"
)

func builtinByName(name string) *builtinRule {
	for _, b := range tables().builtinRules {
		if b.name == name {
			return b
		}
	}
	return nil
}

// patternRule builds a built-in rule written in the policy rule language.
// match is the space-separated list of tokens.
func patternRule(name, reason, match string, anyArg ...string) *builtinRule {
	m, err := compileRule(Rule{Match: strings.Fields(match), AnyArg: anyArg, Decision: Ask})
	if err != nil {
		panic("cmdpolicy: bad built-in rule " + name + ": " + err.Error())
	}
	return &builtinRule{name: name, category: name[:strings.Index(name, "/")], reason: reason, m: m}
}

func analyzerRule(name, reason string, m matcher) *builtinRule {
	return &builtinRule{name: name, category: name[:strings.Index(name, "/")], reason: reason, m: m}
}

// npm's spellings of install, ci, install-test and update, typos included.
const npmInstallVerbs = "install|i|in|ins|inst|insta|instal|isnt|isnta|isntal|isntall|add|" +
	"ci|clean-install|ic|install-clean|isntall-clean|" +
	"install-test|it|install-ci-test|cit|clean-install-test|sit|" +
	"update|up|upgrade|udpate"

// newBuiltinRules builds the catalog, in the order `cordon policy show`
// lists it.
func newBuiltinRules() []*builtinRule {
	return []*builtinRule{
		// undecidable: raised by the analysis, never matched by pattern.
		{name: ruleDynamicCommand, category: CategoryUndecidable,
			reason: "the program or shell code is only known at run time, so cordon cannot tell what runs"},
		{name: ruleEval, category: CategoryUndecidable,
			reason: "eval runs a string as shell code"},
		{name: ruleScriptFile, category: CategoryUndecidable,
			reason: "the shell code comes from a pipe or the terminal, or is in a language cordon does not read"},
		{name: ruleShellFunction, category: CategoryUndecidable,
			reason: "calls a shell function defined in the same command line, whose behaviour depends on how it is called"},
		{name: ruleAlias, category: CategoryUndecidable,
			reason: "defines an alias, so later commands may not be what they look like"},
		{name: ruleLoadsCode, category: CategoryUndecidable,
			reason: "changes which code programs load or run (search path, preload library, config file, interpreter option)"},
		{name: ruleLookAlike, category: CategoryUndecidable,
			reason: "the program name has non-ASCII or control characters and may imitate another program"},
		{name: ruleUnparsable, category: CategoryUndecidable,
			reason: "cordon cannot parse this shell code"},

		// secret-access
		analyzerRule("secret-access/read-secret-file",
			"reads a credential file (SSH key, cloud credentials, .env, token store)", secretFileMatcher{}),
		patternRule("secret-access/gh-auth-token", "prints the GitHub CLI's token", "gh auth token **"),
		patternRule("secret-access/gh-auth-status-token", "prints the GitHub CLI's token", "gh auth status **", "-t|--show-token"),
		patternRule("secret-access/aws-configure-get", "prints AWS configuration values, access keys included", "aws configure get|export-credentials **"),
		patternRule("secret-access/aws-token", "creates and prints AWS credentials",
			"aws sts|ecr|ecr-public get-session-token|assume-role|assume-role-with-web-identity|get-federation-token|get-login-password **"),
		patternRule("secret-access/gcloud-print-token", "prints a Google Cloud access or identity token",
			"gcloud auth print-access-token|print-identity-token|print-refresh-token **"),
		patternRule("secret-access/gcloud-adc-token", "prints a Google Cloud access token",
			"gcloud auth application-default print-access-token **"),
		patternRule("secret-access/az-access-token", "prints an Azure access token", "az account get-access-token **"),
		patternRule("secret-access/macos-keychain", "reads passwords from the macOS keychain",
			"security find-generic-password|find-internet-password|dump-keychain|export|find-certificate **"),
		patternRule("secret-access/secret-tool", "reads a password from the desktop keyring", "secret-tool lookup **"),
		patternRule("secret-access/kubectl-config-raw", "prints Kubernetes credentials", "kubectl|oc config view **", "--raw|--raw=true"),
		patternRule("secret-access/kubectl-secrets", "reads Kubernetes secrets", "kubectl|oc get|describe **", "secret|secrets|secret/*|secrets/*|secret.*|secrets.*"),
		patternRule("secret-access/git-credential", "asks git's credential helper for a password", "git credential fill|get **"),
		patternRule("secret-access/password-manager", "reads a secret from a password manager",
			"op|pass|gopass|bw|lpass|vault|doppler|infisical read|show|get|item|unlock|export|secrets|kv **"),
		patternRule("secret-access/gpg-export-secret", "exports private GPG keys", "gpg|gpg2 **", "--export-secret-keys|--export-secret-subkeys|--export-secret-keys=*"),

		// dependency-install
		patternRule("dependency-install/npm", "installs npm packages, which can run install scripts", "npm "+npmInstallVerbs+" **"),
		patternRule("dependency-install/npm-audit-fix", "installs npm packages, which can run install scripts", "npm audit fix **"),
		patternRule("dependency-install/pnpm", "installs npm packages, which can run install scripts", "pnpm add|install|i|update|up|upgrade|install-test|it|import **"),
		patternRule("dependency-install/yarn", "installs npm packages, which can run install scripts", "yarn add|install|up|upgrade|upgrade-interactive|import **"),
		patternRule("dependency-install/yarn-bare", "a bare yarn installs the project's npm packages", "yarn"),
		patternRule("dependency-install/yarn-global", "installs npm packages globally", "yarn global add|upgrade **"),
		patternRule("dependency-install/bun", "installs npm packages, which can run install scripts", "bun add|a|install|i|update|upgrade **"),
		patternRule("dependency-install/deno", "installs packages", "deno add|install|i **"),
		patternRule("dependency-install/pip", "installs Python packages, which can run build code",
			"pip|pip2|pip3|pip3.*|pip2.* install|download|wheel **"),
		patternRule("dependency-install/uv", "installs Python packages", "uv add|sync **"),
		patternRule("dependency-install/uv-pip", "installs Python packages", "uv pip install|sync **"),
		patternRule("dependency-install/uv-tool", "installs a Python tool", "uv tool install|upgrade **"),
		patternRule("dependency-install/poetry", "installs Python packages", "poetry add|install|update|sync **"),
		patternRule("dependency-install/pipenv", "installs Python packages", "pipenv install|sync|update **"),
		patternRule("dependency-install/pdm", "installs Python packages", "pdm add|install|sync|update **"),
		patternRule("dependency-install/pipx", "installs a Python tool", "pipx install|upgrade|inject|reinstall **"),
		patternRule("dependency-install/conda", "installs conda packages", "conda|mamba|micromamba install|create|update **"),
		patternRule("dependency-install/go", "downloads and builds Go modules", "go get|install **"),
		patternRule("dependency-install/go-run-remote", "downloads and runs a Go module at a version", "go run **", "*@*"),
		patternRule("dependency-install/cargo", "installs Rust crates", "cargo add|install|binstall **"),
		patternRule("dependency-install/gem", "installs Ruby gems", "gem install|update **"),
		patternRule("dependency-install/bundle", "installs Ruby gems", "bundle install|add|update **"),
		patternRule("dependency-install/bundle-bare", "a bare bundle installs the project's gems", "bundle"),
		patternRule("dependency-install/composer", "installs PHP packages", "composer require|install|update|global **"),
		patternRule("dependency-install/apt", "installs system packages", "apt|apt-get|aptitude install|reinstall|upgrade|full-upgrade|dist-upgrade|build-dep **"),
		patternRule("dependency-install/dnf", "installs system packages", "dnf|yum|microdnf install|reinstall|upgrade|update|groupinstall **"),
		patternRule("dependency-install/apk", "installs system packages", "apk add|upgrade **"),
		patternRule("dependency-install/pacman", "installs system packages", "pacman|yay|paru **", "-S*|--sync|-U*|--upgrade"),
		patternRule("dependency-install/brew", "installs Homebrew packages", "brew install|reinstall|upgrade|tap|bundle **"),
		patternRule("dependency-install/snap", "installs snaps", "snap install|refresh **"),
		patternRule("dependency-install/nix", "installs Nix packages", "nix-env **", "-i|--install|-iA|-u|--upgrade"),
		patternRule("dependency-install/nix-profile", "installs Nix packages", "nix profile install|add|upgrade **"),
		patternRule("dependency-install/dotnet", "installs .NET packages or tools", "dotnet add|tool **", "package|install|update"),
		patternRule("dependency-install/mix", "installs Elixir packages", "mix deps.get|deps.update|archive.install **"),
		patternRule("dependency-install/cocoapods", "installs CocoaPods, which runs their podspecs", "pod install|update **"),

		// database-write
		analyzerRule("database-write/psql", "runs SQL that writes, or SQL cordon cannot see, against PostgreSQL", psqlMatcher{}),
		analyzerRule("database-write/mysql", "runs SQL that writes, or SQL cordon cannot see, against MySQL", mysqlMatcher{}),
		analyzerRule("database-write/sqlite3", "runs SQL that writes, or SQL cordon cannot see, against SQLite", sqliteMatcher{}),
		analyzerRule("database-write/mongosh", "runs MongoDB code that writes, or code cordon cannot see", mongoMatcher{}),
		analyzerRule("database-write/redis-cli", "runs Redis commands that write, or commands cordon cannot see", redisMatcher{}),
		patternRule("database-write/pg-tools", "creates, drops or restores a database",
			"dropdb|createdb|dropuser|createuser|pg_restore|mongorestore|mongoimport|mysqlimport **"),
		analyzerRule("database-write/migrate", "runs database migrations, which change the schema or data", schemaMigration()),
		patternRule("database-write/mysqladmin", "changes a MySQL server",
			"mysqladmin|mariadb-admin **", "create|drop|flush-*|kill|password|shutdown|reload|refresh|start-replica|stop-replica"),

		// deploy
		patternRule("deploy/kubectl", "changes resources in a Kubernetes cluster",
			"kubectl|oc apply|delete|create|replace|patch|scale|autoscale|edit|set|label|annotate|taint|drain|cordon|uncordon|expose|run|rollback **"),
		patternRule("deploy/kubectl-rollout", "changes a rollout in a Kubernetes cluster", "kubectl|oc rollout restart|undo|pause|resume **"),
		patternRule("deploy/helm", "changes a Helm release", "helm install|upgrade|uninstall|delete|del|un|rollback **"),
		patternRule("deploy/terraform", "changes infrastructure or its state",
			"terraform|tofu apply|destroy|import|taint|untaint|force-unlock **"),
		patternRule("deploy/terraform-state", "changes infrastructure state", "terraform|tofu state rm|mv|push|replace-provider **"),
		patternRule("deploy/terragrunt", "changes infrastructure", "terragrunt **", "apply|destroy|import"),
		patternRule("deploy/pulumi", "changes infrastructure", "pulumi up|update|destroy|import|refresh|cancel **"),
		patternRule("deploy/gcloud", "deploys to Google Cloud", "gcloud **", "deploy"),
		patternRule("deploy/aws", "deploys to AWS", "aws deploy **"),
		patternRule("deploy/aws-cloudformation", "changes AWS CloudFormation stacks",
			"aws cloudformation create-stack|update-stack|delete-stack|deploy|execute-change-set **"),
		patternRule("deploy/aws-service", "updates a running AWS service",
			"aws lambda|ecs update-function-code|update-function-configuration|update-service|publish-version **"),
		patternRule("deploy/az", "deploys or creates Azure resources", "az **", "deploy|create"),
		patternRule("deploy/fly", "deploys to Fly.io", "fly|flyctl deploy|launch **"),
		patternRule("deploy/vercel-prod", "deploys to production on Vercel", "vercel **", "--prod|--prod=true"),
		patternRule("deploy/vercel", "changes production on Vercel", "vercel promote|rollback|remove|rm **"),
		patternRule("deploy/netlify", "deploys to production on Netlify", "netlify deploy **", "--prod|--prod-if-unlocked"),
		patternRule("deploy/serverless", "deploys to the cloud",
			"wrangler|firebase|serverless|sls|cdk|sam|railway deploy|publish|destroy|remove|up **"),
		patternRule("deploy/docker-push", "pushes an image to a registry", "docker|podman|buildah push **"),
		patternRule("deploy/docker-image-push", "pushes an image to a registry", "docker|podman image|manifest push **"),
		patternRule("deploy/docker-build-push", "builds and pushes an image to a registry", "docker|podman buildx|build **", "--push|--push=true"),
		patternRule("deploy/docker-compose-push", "pushes a project's images to a registry", "docker|podman compose push **"),
		patternRule("deploy/docker-compose-v1-push", "pushes a project's images to a registry", "docker-compose|podman-compose push **"),
		analyzerRule("deploy/package-publish", "publishes a package to a registry, where others install it", packagePublish()),
		analyzerRule("deploy/cloud-storage-write", "writes to cloud storage (how static sites are deployed)", storageWriteMatcher{}),

		// pr-merge
		patternRule("pr-merge/gh-pr-merge", "merges a pull request", "gh pr merge **"),
		patternRule("pr-merge/gh-api-merge", "merges a pull request or a branch", "gh api **", "*pulls/*/merge|*/merges"),
		patternRule("pr-merge/gh-api-graphql-merge", "merges a pull request or a branch, or moves a branch, through the GraphQL API",
			"gh api graphql **", "*mergePullRequest*|*mergeBranch*|*enablePullRequestAutoMerge*|*updateRef*|*updateRefs*"),
		patternRule("pr-merge/glab-mr-merge", "merges a merge request", "glab mr merge|accept **"),
		analyzerRule("pr-merge/git-push-force", "force-pushing rewrites history on the remote", gitPushMatcher{force: true}),
		{name: ruleGitPushProtected, category: CategoryPRMerge, protected: true,
			reason: "pushes to a protected branch"},
	}
}
