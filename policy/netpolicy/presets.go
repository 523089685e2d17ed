package netpolicy

import (
	"slices"
	"sort"
	"strings"
)

// presets are named groups of allow rules a policy switches on with
// `presets = ["NAME"]`. They name the exact hosts the tools use rather than
// whole domains where the tools allow it, because every allowed host is also a
// place data can be sent to.
var presets = map[string][]string{
	// Package registries, for installs with the tools' default settings.
	"package-registries": concat(npmRegistry, pythonRegistry, goRegistry, rustRegistry, rubyRegistry,
		[]string{
			// maven, gradle
			"repo.maven.apache.org", "repo1.maven.org",
			"plugins.gradle.org", "plugins-artifacts.gradle.org",
			"services.gradle.org", "downloads.gradle.org",
		},
		nugetRegistry, composerRegistry, hexRegistry, cocoapodsRegistry),
	// Git hosts over HTTPS and over ssh (port 22, and GitHub's ssh on 443).
	"git-hosts": {
		"github.com", "api.github.com", "codeload.github.com", "*.githubusercontent.com",
		"github.com:22", "ssh.github.com",
		"gitlab.com", "gitlab.com:22",
		"bitbucket.org", "bitbucket.org:22",
		"codeberg.org", "codeberg.org:22",
	},
}

// The registries of each ecosystem: the package-registries preset is their
// union, and an approved install gets its own tool's (InstallRegistry).
var (
	npmRegistry       = []string{"registry.npmjs.org", "registry.yarnpkg.com", "repo.yarnpkg.com"} // npm, pnpm, yarn, bun, corepack
	pythonRegistry    = []string{"pypi.org", "files.pythonhosted.org"}                             // pip, uv, poetry, pipenv, pdm, pipx
	goRegistry        = []string{"proxy.golang.org", "sum.golang.org"}                             // go modules and the checksum database
	rustRegistry      = []string{"crates.io", "index.crates.io", "static.crates.io", "static.rust-lang.org"}
	rubyRegistry      = []string{"rubygems.org", "index.rubygems.org"}
	nugetRegistry     = []string{"api.nuget.org"}
	composerRegistry  = []string{"repo.packagist.org"}
	hexRegistry       = []string{"hex.pm", "repo.hex.pm"}
	cocoapodsRegistry = []string{"cdn.cocoapods.org"}
)

// installRegistries maps the tool of a built-in dependency-install rule
// (the part of its ID after "dependency-install/") to the registry it
// installs from with its default settings. System package managers (apt,
// brew, dnf, ...) and installers without one registry (deno, conda, nix)
// are absent: their approval brings no network with it.
var installRegistries = map[string][]string{
	"npm": npmRegistry, "npm-audit-fix": npmRegistry, "pnpm": npmRegistry, "yarn": npmRegistry,
	"yarn-bare": npmRegistry, "yarn-global": npmRegistry, "bun": npmRegistry,
	"pip": pythonRegistry, "uv": pythonRegistry, "uv-pip": pythonRegistry, "uv-tool": pythonRegistry,
	"poetry": pythonRegistry, "pipenv": pythonRegistry, "pdm": pythonRegistry, "pipx": pythonRegistry,
	"go": goRegistry, "go-run-remote": goRegistry,
	"cargo": rustRegistry,
	"gem":   rubyRegistry, "bundle": rubyRegistry, "bundle-bare": rubyRegistry,
	"dotnet": nugetRegistry, "composer": composerRegistry, "mix": hexRegistry, "cocoapods": cocoapodsRegistry,
}

// InstallRegistry returns the hosts that the install a built-in rule asks
// about downloads from (rule "dependency-install/npm": the npm registry),
// or nil when the rule names no registry of its own.
func InstallRegistry(rule string) []string {
	tool, ok := strings.CutPrefix(rule, "dependency-install/")
	if !ok {
		return nil
	}
	return slices.Clone(installRegistries[tool])
}

func concat(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// PresetNames lists the built-in presets, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the rules of a built-in preset, and false if there is none
// by that name.
func Preset(name string) ([]string, bool) {
	rules, ok := presets[name]
	return append([]string(nil), rules...), ok
}
