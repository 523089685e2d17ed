package cmdpolicy

import (
	"regexp"
	"strings"
)

// The database-write analyzers read a client's command line: the statements
// given with -c/-e/arguments, script files, and what a here-document feeds
// to standard input. A statement that writes gives yes; a statement only
// known at run time or a script file gives maybe; a session with no
// statement on the command line (interactive, or fed by a pipe or a file)
// gives yes, because a human must see what it will do.

// dbInput is what a database client's command line says it will run.
type dbInput struct {
	statements []word // given on the command line (-c, -e, --eval, arguments)
	files      []word // scripts it reads
	// session: the client also reads statements from the terminal or
	// standard input (none were given, or it was told to stay open).
	session  bool
	noRun    bool // --version, --help, --list: nothing runs
	readOnly bool // the client refuses writes
}

// judge classifies with classify, which reports whether a statement text
// writes and describes it.
func (in dbInput) judge(stdin *string, classify func(string) (bool, string)) (verdict, string) {
	if in.noRun || in.readOnly {
		return no, ""
	}
	v, why := no, ""
	for _, st := range in.statements {
		if !st.exact() {
			v, why = maybe, "the statement "+st.text+" is only known at run time"
			continue
		}
		if w, what := classify(st.value); w {
			return yes, what
		}
	}
	if v == no && len(in.files) > 0 {
		v, why = maybe, "runs the statements in "+in.files[0].text+", which cordon does not read"
	}
	if in.session {
		if stdin == nil {
			return yes, "a session whose statements come from the terminal or standard input, which cordon cannot see"
		}
		if w, what := classify(*stdin); w {
			return yes, what
		}
	}
	return v, why
}

func valuesOf(vals map[string][]word, names ...string) []word {
	var out []word
	for _, n := range names {
		out = append(out, vals[n]...)
	}
	return out
}

type psqlMatcher struct{}

func (psqlMatcher) match(s *subject) (verdict, string) {
	return dbClient(s, func() (verdict, string) {
		vals, _, noRun := tables().psqlOpts.scanArgs(s.argv[1:])
		in := dbInput{
			statements: valuesOf(vals, "-c", "--command"),
			files:      valuesOf(vals, "-f", "--file"),
			noRun:      noRun,
		}
		in.session = len(in.statements) == 0 && len(in.files) == 0
		return in.judge(s.stdin, psqlWrites)
	}, "psql")
}

func (psqlMatcher) String() string {
	return "psql with -c/-f/stdin SQL that writes (INSERT, UPDATE, DELETE, DROP, ALTER, CREATE, TRUNCATE, GRANT, ...), or an interactive session"
}

type mysqlMatcher struct{}

func (mysqlMatcher) match(s *subject) (verdict, string) {
	return dbClient(s, func() (verdict, string) {
		vals, _, noRun := tables().mysqlOpts.scanArgs(s.argv[1:])
		exec := valuesOf(vals, "-e", "--execute")
		in := dbInput{
			statements: append(exec, valuesOf(vals, "--init-command")...),
			session:    len(exec) == 0,
			noRun:      noRun,
		}
		return in.judge(s.stdin, sqlWrites)
	}, "mysql", "mariadb")
}

func (mysqlMatcher) String() string {
	return "mysql/mariadb with -e/stdin SQL that writes, or an interactive session"
}

type sqliteMatcher struct{}

func (sqliteMatcher) match(s *subject) (verdict, string) {
	return dbClient(s, func() (verdict, string) {
		vals, operands, noRun := tables().sqliteOpts.scanArgs(s.argv[1:])
		in := dbInput{noRun: noRun, session: len(operands) <= 1} // sqlite3 [FILE [SQL...]]
		if len(operands) > 1 {
			in.statements = operands[1:]
		}
		in.statements = append(in.statements, valuesOf(vals, "-cmd")...)
		in.files = valuesOf(vals, "-init")
		for _, w := range s.argv[1:] {
			if w.is("-readonly") || w.is("--readonly") {
				in.readOnly = true
			}
		}
		return in.judge(s.stdin, sqliteWrites)
	}, "sqlite3", "sqlite")
}

func (sqliteMatcher) String() string {
	return "sqlite3 with SQL arguments, -cmd or stdin that write, or an interactive session (not with -readonly)"
}

type mongoMatcher struct{}

func (mongoMatcher) match(s *subject) (verdict, string) {
	return dbClient(s, func() (verdict, string) {
		vals, operands, noRun := tables().mongoOpts.scanArgs(s.argv[1:])
		in := dbInput{statements: valuesOf(vals, "--eval"), files: valuesOf(vals, "-f", "--file"), noRun: noRun}
		for _, op := range operands {
			if op.exact() && (strings.HasSuffix(op.value, ".js") || strings.HasSuffix(op.value, ".mongodb")) {
				in.files = append(in.files, op)
			}
		}
		in.session = len(in.statements) == 0 && len(in.files) == 0
		for _, w := range s.argv[1:] {
			if w.is("--shell") { // stay interactive after --eval
				in.session = true
			}
		}
		return in.judge(s.stdin, mongoWrites)
	}, "mongosh", "mongo")
}

func (mongoMatcher) String() string {
	return "mongosh with --eval/file/stdin code that writes (insertOne, updateMany, drop, ...), or an interactive session"
}

type redisMatcher struct{}

func (redisMatcher) match(s *subject) (verdict, string) {
	return dbClient(s, func() (verdict, string) {
		args := s.argv[1:]
		starts, noRun, ok := tables().redisOpts.operandStarts(args, 0)
		if !ok {
			return maybe, "cordon cannot tell where the Redis command starts"
		}
		if noRun && len(starts) == 1 && starts[0] == len(args) {
			return no, ""
		}
		opts := args[:starts[0]]
		for i, w := range opts {
			switch {
			case w.is("--pipe"):
				return yes, "--pipe sends commands from standard input, which cordon cannot see"
			case w.is("--eval"):
				return maybe, "runs the Lua script in " + wordAfter(opts, i).text
			case w.is("--cluster"):
				sub := wordAfter(opts, i)
				if sub.exact() && (sub.value == "check" || sub.value == "info" || sub.value == "help") {
					return no, ""
				}
				return yes, "changes the cluster (redis-cli --cluster " + sub.text + ")"
			case w.exact() && tables().redisModes[w.value]:
				return no, ""
			}
		}
		v, why := no, ""
		for _, start := range starts {
			if start >= len(args) {
				if s.stdin != nil {
					if w, what := redisWrites(*s.stdin); w {
						return yes, what
					}
					continue
				}
				return yes, "an interactive session, whose commands cordon cannot see"
			}
			cmd := args[start:]
			if !cmd[0].exact() || len(cmd) > 1 && !cmd[1].exact() && tables().redisTwoWord[strings.ToUpper(cmd[0].value)] != nil {
				v, why = maybe, "the Redis command is only known at run time"
				continue
			}
			line := cmd[0].value
			if len(cmd) > 1 && cmd[1].exact() {
				line += " " + cmd[1].value
			}
			if w, what := redisWrites(line); w {
				return yes, what
			}
		}
		return v, why
	}, "redis-cli", "valkey-cli", "keydb-cli")
}

func wordAfter(ws []word, i int) word {
	if i+1 < len(ws) {
		return ws[i+1]
	}
	return exactWord("")
}

func (redisMatcher) String() string {
	return "redis-cli with a command that writes (SET, DEL, FLUSHALL, CONFIG SET, ...), --pipe, --cluster changes, or an interactive session"
}

// dbClient wraps a database analyzer: it applies only to the named clients,
// and only could apply to a program only known at run time.
func dbClient(s *subject, judge func() (verdict, string), names ...string) (verdict, string) {
	pv := programIs(s, names...)
	if pv == no {
		return no, ""
	}
	if s.name == "" {
		return maybe, "the program is only known at run time"
	}
	v, why := judge()
	return min(v, pv), why
}

// sqlWrites reports whether SQL text may change data, schema or server
// settings, and names the first such statement.
func sqlWrites(sql string) (bool, string) {
	tab := tables()
	for _, st := range sqlStatements(sql) {
		if len(st) == 0 {
			continue
		}
		first := st[0]
		if !tab.sqlReadStarts[first] {
			return true, "SQL statement " + first + " writes"
		}
		switch first {
		case "PRAGMA":
			for _, t := range st {
				if t == "=" {
					return true, "PRAGMA assignment writes"
				}
			}
			continue
		case "SET":
			if len(st) > 1 && (st[1] == "GLOBAL" || st[1] == "PERSIST" || st[1] == "PERSIST_ONLY") {
				return true, "SET " + st[1] + " changes the server"
			}
			continue
		}
		for _, t := range st[1:] {
			if tab.sqlWriteWords[t] {
				return true, first + " statement with " + t + " writes"
			}
		}
	}
	return false, ""
}

// sqlStatements splits SQL into statements of upper-cased words, dropping
// comments, string literals and quoted identifiers. "=" is kept as a token.
func sqlStatements(sql string) [][]string {
	var out [][]string
	var cur []string
	flush := func() {
		out = append(out, cur)
		cur = nil
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ';':
			flush()
			i++
		case c == '-' && strings.HasPrefix(sql[i:], "--"), c == '#':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				i = len(sql)
			} else {
				i += j
			}
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				i = len(sql)
			} else {
				i += j + 4
			}
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i)
		case c == '$':
			i = skipDollarQuoted(sql, i)
		case c == '=':
			cur = append(cur, "=")
			i++
		case isIdentStart(c):
			j := i
			for j < len(sql) && (isIdentStart(sql[j]) || sql[j] >= '0' && sql[j] <= '9' || sql[j] == '$') {
				j++
			}
			cur = append(cur, strings.ToUpper(sql[i:j]))
			i = j
		default:
			i++
		}
	}
	flush()
	return out
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// skipQuoted skips a quoted literal starting at s[i]; doubled quotes and
// backslashes escape.
func skipQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// skipDollarQuoted skips a PostgreSQL $tag$...$tag$ string, or just the '$'.
func skipDollarQuoted(s string, i int) int {
	tag := tables().dollarTag.FindString(s[i:])
	if tag == "" {
		return i + 1
	}
	end := strings.Index(s[i+len(tag):], tag)
	if end < 0 {
		return len(s)
	}
	return i + len(tag) + end + len(tag)
}

// psqlWrites classifies a psql script: SQL plus backslash commands on their
// own lines.
func psqlWrites(text string) (bool, string) {
	tab := tables()
	var sql strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if !strings.HasPrefix(trimmed, `\`) {
			sql.WriteString(line)
			sql.WriteByte('\n')
			continue
		}
		cmd := strings.Fields(trimmed)[0]
		switch {
		case strings.HasPrefix(cmd, `\d`) && cmd != `\dconfig` || strings.HasPrefix(cmd, `\l`) || tab.psqlReadMeta[cmd]:
		case cmd == `\copy`:
			if tab.psqlCopyFrom.MatchString(trimmed) {
				return true, `\copy ... from writes rows`
			}
		case strings.HasPrefix(cmd, `\i`) || strings.HasPrefix(cmd, `\include`):
			return true, cmd + " runs statements from a file cordon does not read"
		default:
			return true, "psql command " + cmd + " may write or run other commands"
		}
	}
	return sqlWrites(sql.String())
}

// sqliteWrites classifies a sqlite3 script: SQL plus dot-commands on their
// own lines.
func sqliteWrites(text string) (bool, string) {
	var sql strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if !strings.HasPrefix(trimmed, ".") {
			sql.WriteString(line)
			sql.WriteByte('\n')
			continue
		}
		cmd := strings.Fields(trimmed)[0]
		if !tables().sqliteReadDot[cmd] {
			return true, "sqlite3 command " + cmd + " may write or run other commands"
		}
	}
	return sqlWrites(sql.String())
}

// mongoWrites classifies mongosh JavaScript by the methods it calls.
func mongoWrites(js string) (bool, string) {
	if m := tables().mongoWriteCall.FindString(js); m != "" {
		return true, "MongoDB call " + strings.TrimSpace(m) + " writes"
	}
	return false, ""
}

// redisWrites classifies Redis commands, one per line.
func redisWrites(text string) (bool, string) {
	tab := tables()
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		cmd := strings.ToUpper(f[0])
		if tab.redisReads[cmd] {
			continue
		}
		if subs := tab.redisTwoWord[cmd]; subs != nil {
			if subs["*"] || len(f) > 1 && subs[strings.ToUpper(f[1])] {
				continue
			}
			if len(f) > 1 {
				cmd += " " + strings.ToUpper(f[1])
			}
		}
		return true, "Redis command " + cmd + " writes"
	}
	return false, ""
}

// databaseTables are the database-write analyzers' option specs, word lists
// and patterns.
type databaseTables struct {
	psqlOpts, mysqlOpts, sqliteOpts, mongoOpts, redisOpts optSpec
	// redisModes are redis-cli modes that only read.
	redisModes map[string]bool
	// sqlReadStarts are the statements that do not write by themselves; a
	// statement starting with any other keyword counts as a write.
	sqlReadStarts map[string]bool
	// sqlWriteWords inside a reading statement make it write: a
	// data-modifying CTE, SELECT INTO, EXPLAIN ANALYZE DELETE, SELECT ...
	// FOR UPDATE.
	sqlWriteWords map[string]bool
	// dollarTag starts a PostgreSQL dollar-quoted string: $$ or $tag$.
	dollarTag *regexp.Regexp
	// psqlReadMeta are psql backslash commands that do not write to the
	// database.
	psqlReadMeta map[string]bool
	// psqlCopyFrom finds "\copy ... from", which writes rows.
	psqlCopyFrom *regexp.Regexp
	// sqliteReadDot are sqlite3 dot-commands that do not write to the
	// database.
	sqliteReadDot map[string]bool
	// mongoWriteCall finds mongosh calls that write.
	mongoWriteCall *regexp.Regexp
	// redisReads are Redis commands that only read; redisTwoWord lists the
	// read-only subcommands of container commands ("*" for all of them).
	redisReads   map[string]bool
	redisTwoWord map[string]map[string]bool
}

func newDatabaseTables() databaseTables {
	return databaseTables{
		psqlOpts: opts(
			"-c --command -d --dbname -f --file -h --host -p --port -U --username -v --set --variable -P --pset "+
				"-F --field-separator -R --record-separator -o --output -L --log-file -T --table-attr",
			"", "-l --list -V --version -? --help"),
		mysqlOpts: opts(
			"-e --execute -h --host -u --user -P --port -D --database -S --socket --default-character-set "+
				"--defaults-file --defaults-extra-file --defaults-group-suffix --init-command --protocol --tee --pager --plugin-dir --default-auth",
			"", "-V --version -? --help -I"),
		sqliteOpts: optSpec{
			singleDash: true,
			value:      optionSet("-cmd -init -separator -newline -nullvalue -vfs -maxsize -mmap -pagecache -lookaside -heap -escape"),
			noRun:      optionSet("-version -help"),
		},
		mongoOpts: opts(
			"--eval -f --file --host --port -u --username -p --password --authenticationDatabase --authenticationMechanism "+
				"--apiVersion --tlsCAFile --tlsCertificateKeyFile --tlsCertificateKeyFilePassword --db",
			"", "--version --help -h"),
		redisOpts: opts(
			"-h -p -s -a -u -r -i -n -d -D -t --user --pass --sni --cacert --cacertdir --cert --key --tls-ciphers --tls-ciphersuites "+
				"--eval --rdb --functions-rdb --pattern --count --quoted-pattern --memkeys-samples --lru-test --intrinsic-latency --pipe-timeout --cluster",
			"-x -c -e -4 -6 -2 -3 --tls --insecure --raw --no-raw --quoted-input --csv --json --quoted-json --show-pushes --stat --latency "+
				"--latency-history --latency-dist --replica --bigkeys --memkeys --hotkeys --scan --no-auth-warning --verbose --askpass --pipe",
			"--help --version"),
		redisModes: optionSet("--stat --latency --latency-history --latency-dist --bigkeys --memkeys --hotkeys --scan --rdb --replica --intrinsic-latency --lru-test"),

		sqlReadStarts: optionSet(`SELECT SHOW EXPLAIN DESCRIBE DESC WITH VALUES TABLE BEGIN START COMMIT ROLLBACK END ABORT
			SAVEPOINT RELEASE SET RESET USE PRAGMA LISTEN UNLISTEN NOTIFY FETCH CLOSE DECLARE MOVE HELP CHECKSUM`),
		sqlWriteWords: optionSet("INSERT UPDATE DELETE MERGE DROP ALTER CREATE TRUNCATE GRANT REVOKE INTO COPY"),
		dollarTag:     regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)?\$`),

		psqlReadMeta: optionSet(`\a \C \c \connect \conninfo \copyright \crosstabview \echo \encoding \errverbose \f \g \gdesc
			\gset \gx \h \help \H \l \list \o \out \p \print \password \prompt \pset \q \quit \qecho \r \reset \s \set \setenv
			\sf \sv \t \T \timing \unset \w \write \warn \watch \x \z \? \dconfig`),
		psqlCopyFrom: regexp.MustCompile(`(?i)\bfrom\b`),
		sqliteReadDot: optionSet(`.tables .table .schema .indexes .indices .dump .mode .headers .header .help .databases
			.show .width .timer .print .echo .bail .changes .dbinfo .eqp .explain .fullschema .lint .nullvalue .output .once
			.prompt .quit .exit .separator .stats .expert .open .backup .save .excel .binary .scanstats .dbconfig .log .trace`),

		mongoWriteCall: regexp.MustCompile(`\.\s*(insert|insertOne|insertMany|update|updateOne|updateMany|replaceOne|` +
			`delete|deleteOne|deleteMany|remove|drop|dropDatabase|dropIndex|dropIndexes|createCollection|createView|` +
			`createIndex|createIndexes|renameCollection|bulkWrite|findOneAndUpdate|findOneAndReplace|findOneAndDelete|` +
			`findAndModify|save|createUser|updateUser|dropUser|dropAllUsers|grantRolesToUser|revokeRolesFromUser|` +
			`createRole|dropRole|runCommand|adminCommand|eval|shardCollection|enableSharding|setProfilingLevel|` +
			`fsyncLock|shutdownServer|convertToCapped|compact|mapReduce|initializeOrderedBulkOp|initializeUnorderedBulkOp)\s*\(` +
			`|\$out\b|\$merge\b|\bload\s*\(`),

		redisReads: optionSet(`GET MGET GETRANGE SUBSTR STRLEN EXISTS KEYS SCAN TYPE TTL PTTL EXPIRETIME PEXPIRETIME DUMP
			RANDOMKEY DBSIZE HGET HMGET HGETALL HKEYS HVALS HLEN HEXISTS HSTRLEN HSCAN HRANDFIELD LRANGE LLEN LINDEX LPOS
			SMEMBERS SCARD SISMEMBER SMISMEMBER SSCAN SRANDMEMBER SINTER SUNION SDIFF SINTERCARD ZRANGE ZRANGEBYSCORE
			ZRANGEBYLEX ZREVRANGE ZREVRANGEBYSCORE ZREVRANGEBYLEX ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK ZSCAN
			ZRANDMEMBER ZINTER ZUNION ZDIFF ZINTERCARD XRANGE XREVRANGE XLEN XREAD XPENDING BITCOUNT BITPOS GETBIT BITFIELD_RO
			PFCOUNT GEOPOS GEODIST GEOHASH GEORADIUS_RO GEORADIUSBYMEMBER_RO GEOSEARCH PING ECHO INFO TIME LASTSAVE ROLE
			MONITOR SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE AUTH HELLO SELECT QUIT LOLWUT
			READONLY READWRITE WAIT TOUCH OBJECT_FREQ JSON.GET JSON.MGET JSON.TYPE JSON.STRLEN JSON.ARRLEN JSON.OBJKEYS
			JSON.OBJLEN FT.SEARCH FT.AGGREGATE FT.INFO FT._LIST TS.GET TS.MGET TS.RANGE TS.MRANGE TS.INFO`),
		redisTwoWord: map[string]map[string]bool{
			"CONFIG":   optionSet("GET HELP"),
			"CLIENT":   optionSet("LIST INFO GETNAME ID HELP TRACKINGINFO GETREDIR"),
			"CLUSTER":  optionSet("INFO NODES SLOTS SHARDS KEYSLOT COUNTKEYSINSLOT GETKEYSINSLOT MYID MYSHARDID LINKS HELP REPLICAS SLAVES"),
			"SLOWLOG":  optionSet("GET LEN HELP"),
			"ACL":      optionSet("LIST WHOAMI USERS GETUSER CAT LOG HELP DRYRUN"),
			"FUNCTION": optionSet("LIST DUMP STATS HELP"),
			"SCRIPT":   optionSet("EXISTS HELP"),
			"MODULE":   optionSet("LIST HELP"),
			"LATENCY":  optionSet("DOCTOR LATEST HISTORY GRAPH HISTOGRAM HELP"),
			"XINFO":    {"*": true},
			"OBJECT":   {"*": true},
			"MEMORY":   optionSet("USAGE STATS DOCTOR MALLOC-STATS HELP"),
			"PUBSUB":   {"*": true},
			"COMMAND":  {"*": true},
		},
	}
}
