package cmdpolicy

import (
	"sync"
	"testing"
)

// go test -bench . -run '^$' ./internal/cmdpolicy
func BenchmarkCheckScript(b *testing.B) {
	for _, bc := range []struct{ name, line string }{
		{"simple", "git status"},
		{"compound", `git add -A && git commit -m "fix: x" && git push origin HEAD:main`},
		{"wrapped", `sudo -u app env A=1 timeout 60 bash -c 'npm ci && npx eslint . | tee lint.txt'`},
		{"heredoc-sql", "psql -v ON_ERROR_STOP=1 <<'SQL'\nSELECT 1;\nUPDATE users SET active = false WHERE last_seen < now() - interval '1 year';\nSQL"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				builtinPolicy.CheckScript(bc.line)
			}
		})
	}
}

// BenchmarkTablesBuild builds the rule tables from nothing, as every
// `cordon run` does once (they are lazy, so a run that needs no rule pays
// nothing): part of the cold start path.
func BenchmarkTablesBuild(b *testing.B) {
	tables()
	saved := tablesBuilt
	defer func() { tablesBuilt = saved }() // the last build left tablesOnce done
	for b.Loop() {
		tablesOnce = sync.Once{}
		tables()
	}
}
