package cmdpolicy

import (
	"strings"
)

// anyOfMatcher applies when any of its patterns does: one built-in rule
// for a family of tools that do the same thing (publish a package, migrate
// a database schema).
type anyOfMatcher struct {
	ms []*patternMatcher
}

// anyOf compiles patterns written as "program tokens... [~ any_arg]": the
// tokens of Rule.Match, and after "~" the alternatives of Rule.AnyArg.
func anyOf(patterns ...string) anyOfMatcher {
	var m anyOfMatcher
	for _, p := range patterns {
		match, anyArg, _ := strings.Cut(p, "~")
		var args []string
		if a := strings.TrimSpace(anyArg); a != "" {
			args = []string{a}
		}
		pm, err := compileRule(Rule{Match: strings.Fields(match), AnyArg: args, Decision: Ask})
		if err != nil {
			panic("cmdpolicy: bad built-in pattern " + p + ": " + err.Error())
		}
		m.ms = append(m.ms, pm)
	}
	return m
}

func (m anyOfMatcher) match(s *subject) (verdict, string) {
	best, why := no, ""
	for _, pm := range m.ms {
		if v, d := pm.match(s); v > best {
			best, why = v, d
		}
	}
	return best, why
}

func (m anyOfMatcher) String() string {
	parts := make([]string, len(m.ms))
	for i, pm := range m.ms {
		parts[i] = pm.String()
	}
	return strings.Join(parts, "; or ")
}

// packagePublish: publishing to a package registry, where others install
// what was published; it cannot be taken back.
func packagePublish() anyOfMatcher {
	return anyOf(
		"npm|pnpm|bun publish|unpublish|deprecate **",
		"yarn publish **",
		"yarn npm publish **",
		"cargo publish|yank|owner **",
		"twine upload **",
		"poetry|uv|flit|hatch|pdm publish **",
		"gem push|yank|owner **",
		"dotnet nuget push|delete **",
		"nuget push|delete **",
		"mvn|mvnw **~deploy|deploy:*|release:perform",
		"gradle|gradlew **~publish|publish*|uploadArchives",
		"helm push **",
		"pod trunk push **",
	)
}

// schemaMigration: migration tools, which change a database's schema or
// data the way database-write's statements do.
func schemaMigration() anyOfMatcher {
	return anyOf(
		"python*|py|pypy* manage.py migrate|flush|loaddata|createcachetable **",
		"manage.py migrate|flush|loaddata|createcachetable **",
		"rails|rake db:migrate*|db:rollback|db:drop*|db:reset|db:seed*|db:setup|db:schema:load|db:prepare|db:purge|db:truncate_all **",
		"alembic upgrade|downgrade|stamp **",
		"prisma migrate deploy|dev|reset|resolve **",
		"prisma db push|execute|seed **",
		"knex migrate:*|seed:run **",
		"sequelize|sequelize-cli db:migrate*|db:seed*|db:drop|db:create **",
		"typeorm|typeorm-ts-node-commonjs|typeorm-ts-node-esm migration:run|migration:revert|schema:sync|schema:drop **",
		"drizzle-kit push|migrate|drop **",
		"flyway migrate|clean|repair|baseline|undo **",
		"liquibase **~update*|rollback*|drop-all|dropAll",
		"dbmate up|down|migrate|rollback|drop|create|load **",
		"goose **~up|up-by-one|up-to|down|down-to|redo|reset",
		"migrate **~up|down|drop|force|goto",
		"php artisan migrate*|db:wipe|db:seed **",
		"mix ecto.migrate|ecto.rollback|ecto.drop|ecto.reset|ecto.create|ecto.load **",
		"diesel migration run|revert|redo **",
		"diesel database reset|setup **",
		"sqlx migrate run|revert **",
		"sqlx database drop|reset|create|setup **",
		"atlas migrate apply **",
		"atlas schema apply **",
	)
}

// storageWriteMatcher finds commands that write to cloud object storage:
// aws s3 cp/mv/sync to an s3:// destination, rm, rb and mb, and s3api's
// writing operations; the same for gsutil and gcloud storage (gs://). A
// static site is deployed this way.
type storageWriteMatcher struct{}

func (storageWriteMatcher) match(s *subject) (verdict, string) {
	why := ""
	v := s.each(func(argv []word) verdict {
		v, reason := storageWrite(argv)
		if v != no && why == "" {
			why = reason
		}
		return v
	})
	return v, why
}

func storageWrite(argv []word) (verdict, string) {
	if len(argv) < 3 {
		return no, ""
	}
	var pv verdict
	var args []word
	scheme := ""
	switch {
	case argv[1].is("s3api"):
		pv = programWordIs(argv[0], "aws")
		op := argv[2]
		switch {
		case pv == no:
			return no, ""
		case !op.exact():
			return maybe, maybeDynamic
		}
		for _, p := range []string{"put-", "delete-", "create-", "copy-", "upload-", "complete-", "restore-"} {
			if strings.HasPrefix(op.value, p) {
				return pv, "aws s3api " + op.value + " writes to S3"
			}
		}
		return no, ""
	case argv[1].is("s3"):
		pv, scheme, args = programWordIs(argv[0], "aws"), "s3://", argv[2:]
	case argv[1].is("storage"):
		pv, scheme, args = programWordIs(argv[0], "gcloud"), "gs://", argv[2:]
	default:
		pv, scheme, args = programWordIs(argv[0], "gsutil"), "gs://", argv[1:]
		for len(args) > 0 && args[0].exact() && strings.HasPrefix(args[0].value, "-") {
			if args[0].is("-h") || args[0].is("-o") || args[0].is("-u") || args[0].is("-p") {
				args = args[1:]
			}
			if len(args) > 0 {
				args = args[1:]
			}
		}
	}
	if pv == no || len(args) == 0 {
		return no, ""
	}
	verb := args[0]
	if !verb.exact() {
		return min(pv, maybe), maybeDynamic
	}
	switch verb.value {
	case "rm", "rb", "mb", "setmeta", "acl", "defacl", "retention":
		return pv, verb.value + " changes cloud storage"
	case "cp", "mv", "sync", "rsync":
	default:
		return no, ""
	}
	// The destination is the last operand.
	var last *word
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a.exact() && strings.HasPrefix(a.value, "-") {
			if !strings.Contains(a.value, "=") && !tables().storageFlags[a.value] && strings.HasPrefix(a.value, "--") {
				i++ // aws options take a value unless they are flags
			}
			continue
		}
		last = &args[i]
	}
	switch {
	case last == nil:
		return no, ""
	case last.exact() && strings.HasPrefix(last.value, scheme):
		return pv, verb.value + " to " + last.text
	case !last.exact() && (last.literalPrefix() == "" || strings.HasPrefix(last.literalPrefix(), scheme) || strings.HasPrefix(scheme, last.literalPrefix())):
		return min(pv, maybe), "the destination " + last.text + " is only known at run time"
	}
	return no, ""
}

// programWordIs judges whether a program word is the program name (one of
// aws, gcloud, gsutil).
func programWordIs(w word, name string) verdict {
	if !w.exact() {
		return maybe
	}
	return programVerdict(tables().storagePrograms[name], w.value)
}

func (storageWriteMatcher) String() string {
	return "aws s3 cp|mv|sync to s3://, aws s3 rm|rb|mb, aws s3api put-*|delete-*|create-*|copy-*|upload-*; the same with gsutil and gcloud storage (gs://)"
}

// newStorageFlags lists the options of aws s3 cp/sync and gsutil that take
// no value.
func newStorageFlags() map[string]bool {
	return optionSet(`--recursive --dryrun --quiet --delete --exact-timestamps --follow-symlinks --no-follow-symlinks
		--only-show-errors --no-progress --size-only --no-guess-mime-type --force-glacier-transfer --ignore-glacier-warnings
		--no-overwrite --debug --no-verify-ssl --no-paginate --no-sign-request -r -n -c -d -e -m -J -j -p -P -U -v -x`)
}
