package netpolicy

import "sort"

// presets are named groups of allow rules a policy switches on with
// `presets = ["NAME"]`. They name the exact hosts the tools use rather than
// whole domains where the tools allow it, because every allowed host is also a
// place data can be sent to.
var presets = map[string][]string{
	// Package registries, for installs with the tools' default settings.
	"package-registries": {
		// npm, pnpm, yarn, corepack
		"registry.npmjs.org", "registry.yarnpkg.com", "repo.yarnpkg.com",
		// pip, uv, poetry
		"pypi.org", "files.pythonhosted.org",
		// go modules and the checksum database
		"proxy.golang.org", "sum.golang.org",
		// cargo and rustup
		"crates.io", "index.crates.io", "static.crates.io", "static.rust-lang.org",
		// gem, bundler
		"rubygems.org", "index.rubygems.org",
		// maven, gradle
		"repo.maven.apache.org", "repo1.maven.org",
		"plugins.gradle.org", "plugins-artifacts.gradle.org",
		"services.gradle.org", "downloads.gradle.org",
		// nuget, composer, hex, cocoapods
		"api.nuget.org", "repo.packagist.org", "hex.pm", "repo.hex.pm", "cdn.cocoapods.org",
	},
	// Git hosts over HTTPS and over ssh (port 22, and GitHub's ssh on 443).
	"git-hosts": {
		"github.com", "api.github.com", "codeload.github.com", "*.githubusercontent.com",
		"github.com:22", "ssh.github.com",
		"gitlab.com", "gitlab.com:22",
		"bitbucket.org", "bitbucket.org:22",
		"codeberg.org", "codeberg.org:22",
	},
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
