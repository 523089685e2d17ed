package cmdpolicy

import "sync"

// The package's lookup tables (the built-in rules, option specs, word lists,
// compiled regular expressions) are built on first use, never at program
// start. cordon re-executes itself as the sandbox's init for every command,
// and every package initialiser runs there before that process can act;
// built eagerly, these tables cost it about 0.7 ms and 5,000 allocations,
// although it never judges a command. TestInitAllocatesNothing keeps it so.
//
// So package-level variables hold only what the compiler lays out
// statically (constants, literal slices and arrays of them). Anything that
// calls a function or makes a map belongs in one of the parts below, each
// defined in the file that reads it.

// tableSet is every table the package reads. It is built once and never
// changed, so it is safe for concurrent use.
type tableSet struct {
	builtinRules []*builtinRule  // builtin.go
	gitProgram   pattern         // gitpush.go: the program token "git"
	storageFlags map[string]bool // catalog.go
	// storagePrograms: catalog.go
	storagePrograms map[string]pattern
	// packageManagerCommands: progcode.go
	packageManagerCommands map[string]map[string]bool

	shellTables    // analyze.go
	wrapperTables  // wrappers.go
	runnerTables   // runners.go
	globalTables   // normalize.go
	envTables      // envcode.go
	secretTables   // secrets.go
	databaseTables // database.go
}

var (
	tablesOnce  sync.Once
	tablesBuilt *tableSet
)

// tables returns the package's tables, building them on the first call.
//
// It is a sync.Once rather than a sync.OnceValue variable because building
// the tables refers (through the shell built-ins) to code that calls
// tables, which the compiler rejects as an initialisation cycle, and
// because a variable initialised with sync.OnceValue would itself allocate
// at program start.
func tables() *tableSet {
	tablesOnce.Do(func() {
		tablesBuilt = &tableSet{
			builtinRules: newBuiltinRules(),
			gitProgram:   mustPattern("git"),
			storageFlags: newStorageFlags(),
			storagePrograms: map[string]pattern{"aws": mustPattern("aws"), "gcloud": mustPattern("gcloud"),
				"gsutil": mustPattern("gsutil")},
			packageManagerCommands: newPackageManagerCommands(),
			shellTables:            newShellTables(),
			wrapperTables:          newWrapperTables(),
			runnerTables:           newRunnerTables(),
			globalTables:           newGlobalTables(),
			envTables:              newEnvTables(),
			secretTables:           newSecretTables(),
			databaseTables:         newDatabaseTables(),
		}
	})
	return tablesBuilt
}
