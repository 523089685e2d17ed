package cmdpolicy

import "strings"

// secretTables describe credential files and the programs that read them.
type secretTables struct {
	// secretPaths are the credential files of the secret-access category,
	// as argument patterns. The leading "*" lets them match however the path
	// is written: ~/.ssh/id_rsa, /home/me/.ssh/id_rsa, ../.ssh/id_rsa,
	// --key=$HOME/.ssh/id_rsa, -d @.env.
	secretPaths []pattern
	// fileReaders are programs that read or copy the files named in their
	// arguments. For them, an argument only known at run time ("$f") may be
	// a credential file; for other programs only an argument that visibly
	// names one counts (echo $HOME stays quiet).
	fileReaders map[string]bool
}

func newSecretTables() secretTables {
	return secretTables{
		secretPaths: []pattern{
			mustPattern("*.ssh/id_*|*.ssh/*_key|*.ssh/*.pem"),
			mustPattern("*.aws/credentials*|*.aws/sso/cache*|*.aws/cli/cache*"),
			mustPattern("*.gnupg/*|*.password-store/*"),
			mustPattern("*.config/gcloud/*|*.azure/*|*.kube/config*|*.docker/config.json"),
			mustPattern("*.netrc|*_netrc|*.git-credentials|*.npmrc|*.pypirc|*.vault-token|*.config/gh/hosts.yml|*.terraform.d/credentials*"),
			mustPattern(".env*|*/.env*|*=.env*|@.env*"),
		},
		fileReaders: optionSet(`< source . cat tac nl less more most head tail bat batcat view
			grep egrep fgrep zgrep rg ag ack awk gawk mawk nawk sed cut sort uniq paste join fold fmt column comm diff cmp
			od xxd hexdump strings base64 base32 basenc iconv jq yq dd tee
			cp mv scp rsync install ln tar zip 7z gzip bzip2 xz zstd openssl ssh-keygen gpg gpg2
			curl wget http https nc ncat socat
			vi vim nvim nano emacs ed code subl`),
	}
}

// secretFileMatcher finds credential files among a reader's arguments. An
// input redirection "cmd < FILE" is judged as the pseudo-command "< FILE".
type secretFileMatcher struct{}

func (secretFileMatcher) match(s *subject) (verdict, string) {
	tab := tables()
	reader := yes
	switch {
	case s.name == "":
		reader = maybe
	case !tab.fileReaders[s.name]:
		reader = no
		for _, alt := range alternativeNames(s.name) {
			if tab.fileReaders[alt] {
				reader = maybe
			}
		}
		if reader == no {
			return no, ""
		}
	}
	v := no
	for _, w := range s.argv[1:] {
		if w.pipe {
			continue
		}
		pg, isPath := pathnameGlob(w)
		isPath = isPath && !s.dotglob
		for _, p := range tab.secretPaths {
			switch {
			case w.exact():
				if p.matchString(w.value) {
					return reader, "names " + w.text
				}
			case isPath:
				for _, alt := range p.alts {
					// The option forms (--env-file=.env, curl -d @.env) are
					// arguments, not names pathname expansion produces.
					if s := alt.String(); strings.Contains(s, "=") || strings.HasPrefix(s, "@") {
						continue
					}
					if intersectsPath(alt, pg) {
						v = maybe
					}
				}
			case p.couldMatch(w):
				v = maybe
			}
		}
	}
	if v == maybe {
		return maybe, "a file name only known at run time may be a credential file"
	}
	return no, ""
}

func (secretFileMatcher) String() string {
	return "a file reader (cat, grep, cp, curl, ...) or an input redirection naming ~/.ssh/id_*, ~/.aws/credentials, " +
		"~/.gnupg, ~/.config/gcloud, ~/.kube/config, ~/.docker/config.json, ~/.netrc, ~/.git-credentials, ~/.npmrc, .env*, ..."
}
