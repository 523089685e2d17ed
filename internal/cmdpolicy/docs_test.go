package cmdpolicy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsListEveryBuiltin keeps docs/commands.md in step with the catalog.
func TestDocsListEveryBuiltin(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "commands.md"))
	if err != nil {
		t.Fatalf("reading the rule documentation: %v", err)
	}
	text := string(doc)
	for _, r := range Builtins() {
		short := strings.TrimPrefix(r.Name, r.Category+"/")
		if !strings.Contains(text, "`"+r.Name+"`") && !strings.Contains(text, "`"+short+"`") {
			t.Errorf("docs/commands.md does not mention built-in rule %s", r.Name)
		}
	}
	for _, c := range Categories() {
		if !strings.Contains(text, "**"+c+"**") {
			t.Errorf("docs/commands.md has no section for category %s", c)
		}
	}
}

func TestProgramNames(t *testing.T) {
	for prog, want := range map[string]string{
		"git":                          "git",
		"/usr/bin/git":                 "git",
		"/proc/self/root/usr/bin/npx":  "npx",
		"~/bin/git":                    "git",
		"./git":                        "./git",
		"bin/git":                      "bin/git",
		`C:\Program Files\Git\git.exe`: "git.exe",
		"/":                            "/",
	} {
		if got := programName(prog); got != want {
			t.Errorf("programName(%q) = %q, want %q", prog, got, want)
		}
	}
	for name, alike := range map[string]bool{"git": false, "gіt": true, "g\u200bit": true, "git\x1b": true, "pip3.12": false} {
		if looksAlike(name) != alike {
			t.Errorf("looksAlike(%q) = %v", name, !alike)
		}
	}
	git := mustPattern("git")
	for prog, want := range map[string]verdict{"git": yes, "/usr/bin/git": yes, "GIT": maybe, "git.exe": maybe, "gіt": no, "./git": maybe, "../bin/git": maybe, "./gitk": no, "gitk": no} {
		if got := programVerdict(git, prog); got != want {
			t.Errorf("programVerdict(git, %q) = %v, want %v", prog, got, want)
		}
	}
}

func TestSQLClassifier(t *testing.T) {
	for sql, writes := range map[string]bool{
		"SELECT * FROM users":                            false,
		"select updated_at, created_by from t":           false,
		"SELECT 'DROP TABLE x' -- DELETE":                false,
		"/* UPDATE */ SELECT 1":                          false,
		`SELECT "delete" FROM t`:                         false,
		"SHOW TABLES; EXPLAIN SELECT 1":                  false,
		"PRAGMA table_info(t)":                           false,
		"BEGIN; SELECT 1; COMMIT":                        false,
		"SET search_path TO app":                         false,
		"select 1; drop table t":                         true,
		"INSERT INTO t VALUES (1)":                       true,
		"WITH x AS (DELETE FROM t RETURNING *) SELECT 1": true,
		"SELECT * INTO backup FROM t":                    true,
		"EXPLAIN ANALYZE DELETE FROM t":                  true,
		"PRAGMA journal_mode = WAL":                      true,
		"SET GLOBAL max_connections = 10":                true,
		"VACUUM":                                         true,
		"DO $$ BEGIN PERFORM 1; END $$":                  true,
		"CALL archive_orders()":                          true,
		"SELECT $$DROP$$; TRUNCATE t":                    true,
	} {
		if got, _ := sqlWrites(sql); got != writes {
			t.Errorf("sqlWrites(%q) = %v, want %v", sql, got, writes)
		}
	}
}
