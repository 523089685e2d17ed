package cmdpolicy

import (
	"strings"
)

// globalTables describe the options programs read before their subcommand
// or module.
type globalTables struct {
	// globalOptions: programs with subcommands accept global options before
	// the subcommand ("git -C dir push", "kubectl -n prod apply"). Rules are
	// written without them, so cordon also reads each such command with them
	// removed. An option cordon does not know might take a value, so it keeps
	// both readings.
	globalOptions map[string]optSpec
	// pythonOptions are the interpreter options before "-m module".
	pythonOptions optSpec
}

func newGlobalTables() globalTables {
	return globalTables{
		globalOptions: newGlobalOptions(),
		pythonOptions: opts("-X -W -Q", "-I -E -s -S -u -B -O -OO -q -b -bb -d -v -R -P -x", ""),
	}
}

func newGlobalOptions() map[string]optSpec {
	kubectl := opts("-n --namespace --context --kubeconfig --cluster --user -s --server --token --as --as-group --as-uid "+
		"--request-timeout --cache-dir --certificate-authority --client-certificate --client-key --tls-server-name --profile --profile-output -v --v --log-flush-frequency",
		"--insecure-skip-tls-verify --match-server-version --warnings-as-errors --disable-compression", "-h --help")
	docker := opts("--config -c --context -H --host -l --log-level --tlscacert --tlscert --tlskey --url --connection",
		"-D --debug --tls --tlsverify --remote", "-v --version -h --help")
	pip := opts("--python --proxy --cert --client-cert --log --cache-dir --timeout --retries --exists-action --trusted-host --use-feature --use-deprecated --keyring-provider",
		"-q --quiet -v --verbose --isolated --no-input --no-cache-dir --disable-pip-version-check --no-color --require-virtualenv --debug",
		"-V --version -h --help")
	apt := opts("-o --option -c --config-file -t --target-release", "-y --yes --assume-yes -q --quiet -qq -s --simulate --no-install-recommends -f --fix-broken -m --allow-unauthenticated", "-v --version -h --help")
	return map[string]optSpec{
		"git": opts("-C -c --git-dir --work-tree --namespace --super-prefix --config-env --list-cmds",
			"-p --paginate -P --no-pager --bare --no-replace-objects --literal-pathspecs --glob-pathspecs --noglob-pathspecs "+
				"--icase-pathspecs --no-optional-locks --no-lazy-fetch --no-advice --exec-path",
			"--version --help --html-path --man-path --info-path"),
		"kubectl": kubectl,
		"oc":      kubectl,
		"helm": opts("-n --namespace --kube-context --kubeconfig --kube-apiserver --kube-token --kube-as-user --kube-as-group "+
			"--kube-ca-file --kube-tls-server-name --registry-config --repository-cache --repository-config --burst-limit --qps",
			"--debug --kube-insecure-skip-tls-verify", "-h --help --version"),
		"docker": docker,
		"podman": docker,
		"npm": opts("--prefix -w --workspace --registry --cache --userconfig --globalconfig --loglevel --otp --node-options --script-shell",
			"-g --global -s --silent -q --quiet -d --verbose -y --yes --no --ws --workspaces --include-workspace-root --offline "+
				"--prefer-offline --prefer-online --json --parseable --no-audit --no-fund --legacy-peer-deps --force -f --dry-run --ignore-scripts",
			"-v --version -h --help"),
		"pnpm": opts("-C --dir -F --filter --reporter --loglevel --store-dir --virtual-store-dir",
			"-r --recursive -w --workspace-root -s --silent --stream --parallel --aggregate-output --frozen-lockfile --offline --prefer-offline",
			"-v --version -h --help"),
		"yarn":      opts("--cwd --modules-folder --cache-folder --mutex", "-s --silent --verbose --offline --frozen-lockfile --immutable --json --non-interactive --ignore-scripts --prefer-offline", "-v --version -h --help"),
		"bun":       opts("--cwd -c --config", "--silent --verbose --bun", "-v --version -h --help"),
		"cargo":     opts("-C --config -Z --color", "-v --verbose -q --quiet --frozen --locked --offline", "-V --version -h --help --list"),
		"go":        opts("-C", "", ""),
		"terraform": {singleDash: true, flag: optionSet("-chdir"), noRun: optionSet("-version -help -v -h")},
		"tofu":      {singleDash: true, flag: optionSet("-chdir"), noRun: optionSet("-version -help -v -h")},
		"pulumi":    opts("-C --cwd --color --config-file --profiling --tracing -v --verbose", "--non-interactive --emoji --logflow --logtostderr --disable-integrity-checking", "--version -h --help"),
		"aws": opts("--region --profile --output --endpoint-url --query --ca-bundle --cli-read-timeout --cli-connect-timeout --color --cli-binary-format",
			"--debug --no-verify-ssl --no-paginate --no-sign-request --no-cli-pager --cli-auto-prompt --no-cli-auto-prompt", "--version"),
		"gcloud": opts("--project --account --configuration --impersonate-service-account --verbosity --format --billing-project --flags-file --trace-token",
			"-q --quiet --log-http --no-user-output-enabled --user-output-enabled", "--version -h --help"),
		"az":       opts("--subscription -o --output --query", "--debug --verbose --only-show-errors", "--version -h --help"),
		"pip":      pip,
		"pip3":     pip,
		"uv":       opts("--directory --project --cache-dir --config-file --color --python-preference", "-q --quiet -v --verbose --offline --no-cache -n --native-tls --no-config --no-progress --preview", "-V --version -h --help"),
		"poetry":   opts("-C --directory -P --project", "-q --quiet -v -vv -vvv --verbose -n --no-interaction --no-ansi --ansi --no-plugins --no-cache", "-V --version -h --help"),
		"composer": opts("-d --working-dir", "-q --quiet -v -vv -vvv --verbose -n --no-interaction --no-plugins --no-scripts --ansi --no-ansi --profile", "-V --version -h --help"),
		"apt":      apt,
		"apt-get":  apt,
		"gh":       opts("-R --repo", "", "--version -h --help"),
		"glab":     opts("-R --repo", "", "--version -h --help"),
		"fly":      opts("-a --app -c --config -t --access-token", "--debug --verbose", "--version -h --help"),
		"flyctl":   opts("-a --app -c --config -t --access-token", "--debug --verbose", "--version -h --help"),
		"vercel":   opts("-t --token --scope -A --local-config -Q --global-config --cwd", "-d --debug -y --yes", "-v --version -h --help"),
	}
}

// readings returns the ways to read argv with its global options removed,
// and what those options do (git -c core.pager=...). It returns no readings
// when there is nothing to remove.
func readings(name string, argv []word) ([][]word, unwrapped) {
	var u unwrapped
	if isPython(name) {
		if r, ok := pythonModule(argv); ok {
			return [][]word{r}, u
		}
		return nil, u
	}
	spec, ok := tables().globalOptions[name]
	if !ok {
		return nil, u
	}
	args := argv[1:]
	if name == "cargo" && len(args) > 0 && args[0].exact() && strings.HasPrefix(args[0].value, "+") {
		args = args[1:] // cargo +nightly build
	}
	starts, _, ok := spec.operandStarts(args, 0)
	if !ok {
		u.findings = append(u.findings, dynamicCode("cordon cannot tell where "+name+"'s subcommand starts"))
		return nil, u
	}
	last := 0
	var out [][]word
	for _, s := range starts {
		last = max(last, s)
		if s == 0 && len(args) == len(argv)-1 {
			continue // nothing removed
		}
		out = append(out, append([]word{argv[0]}, args[s:]...))
	}
	if name == "git" {
		u.add(gitGlobalEffects(args[:last]))
	}
	if name == "cargo" && len(optionValues(args[:last], "", "--config", "")) > 0 {
		u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: "cargo --config can set a rustc wrapper or other programs to run"})
	}
	if name == "npm" {
		for _, o := range []string{"--node-options", "--script-shell"} {
			if len(optionValues(args[:last], "", o, "")) > 0 {
				u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: "npm " + o + " changes the code npm runs"})
			}
		}
	}
	return out, u
}

// gitGlobalEffects judges git's global options: -c key=value may hold a
// command to run, or a place code is loaded from.
func gitGlobalEffects(opts []word) unwrapped {
	var u unwrapped
	for _, kv := range optionValues(opts, "-c", "", "pP") {
		if !kv.exact() {
			u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: "git -c " + kv.text + " sets configuration only known at run time"})
			continue
		}
		key, value, _ := strings.Cut(kv.value, "=")
		switch gitConfigEffect(key, value) {
		case runsScript:
			if code := gitConfigScript(key, value); code != "" {
				u.scripts = append(u.scripts, code)
			}
		case loadsCode:
			u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: "git -c " + key + " loads code or configuration from elsewhere"})
		}
	}
	for _, kv := range optionValues(opts, "", "--config-env", "") {
		key, _, _ := strings.Cut(kv.value, "=")
		if !kv.exact() || gitConfigEffect(key, "x") != noCode {
			u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: "git --config-env sets " + key + " from the environment"})
		}
	}
	for _, o := range opts {
		if o.exact() && strings.HasPrefix(o.value, "--exec-path=") {
			u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: "git --exec-path runs git's subcommands from another directory"})
		}
	}
	return u
}

func isPython(name string) bool {
	if name == "py" || name == "pypy" || name == "pypy3" {
		return true
	}
	rest, ok := strings.CutPrefix(name, "python")
	if !ok {
		return false
	}
	for _, c := range rest {
		if c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// pythonModule reads `python -m MODULE ...` as the module's program run
// with the same arguments: `python -m pip install` is `pip install`.
func pythonModule(argv []word) ([]word, bool) {
	args := argv[1:]
	pythonOptions := tables().pythonOptions
	for i := 0; i < len(args); i++ {
		w := args[i]
		if !w.exact() || !strings.HasPrefix(w.value, "-") {
			return nil, false
		}
		mod := ""
		switch {
		case w.value == "-m" && i+1 < len(args) && args[i+1].exact():
			mod, i = args[i+1].value, i+1
		case strings.HasPrefix(w.value, "-m") && len(w.value) > 2:
			mod = w.value[2:]
		case pythonOptions.value[w.value]:
			i++
			continue
		case pythonOptions.flag[w.value]:
			continue
		default:
			return nil, false
		}
		// "python -m pip.__main__" is pip, "python -m uv pip" is uv.
		mod, _, _ = strings.Cut(mod, ".")
		if mod == "pip3" {
			mod = "pip"
		}
		if mod == "" {
			return nil, false
		}
		return append([]word{{value: mod, text: joinWords(argv[:i+1])}}, args[i+1:]...), true
	}
	return nil, false
}
