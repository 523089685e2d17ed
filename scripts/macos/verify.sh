#!/bin/bash
# verify.sh: check cordon's macOS sandbox on a real Mac.
#
# cordon's macOS backend is built and its profile is tested on Linux, but
# this project's CI has no Mac: nothing there proves that Seatbelt enforces
# what the generated profile says. This script does, on your Mac: it runs
# escape probes under `cordon run` and judges each from outside (the file
# outside did not change, the listener got nothing, the canary appears in no
# output, no process survived), then prints "N passed, N failed".
#
# Usage, from a checkout of cordon (Go needed to build it), or with
# CORDON=/path/to/cordon:
#
#   bash scripts/macos/verify.sh            # every probe
#   VERIFY_NETWORK=1 bash scripts/macos/verify.sh   # also the proxy probes (needs Internet)
#
# It works in a throw-away HOME under $TMPDIR, never in yours: your secrets,
# keychain and settings are not read or changed. Two probes touch the
# session: the pasteboard (saved and put back) and launchd (a job it tries to
# submit from inside is removed if it appears). Exit status: 0 when every
# probe passed. Written for the bash 3.2 macOS ships.
set -u

if [ "$(uname -s)" != "Darwin" ]; then
	echo "verify.sh: this checks the macOS sandbox and runs on macOS only" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cordon-verify.XXXXXX")
work=$(cd "$work" && pwd -P)
trap 'rm -rf "$work"' EXIT

if [ -z "${CORDON:-}" ]; then
	echo "building cordon from $here"
	(cd "$here" && CGO_ENABLED=0 go build -o "$work/cordon" ./cmd/cordon) || { echo "verify.sh: go build failed" >&2; exit 2; }
	CORDON=$work/cordon
fi

H=$work/home
WS=$H/proj
mkdir -p "$H/.ssh" "$H/.aws" "$WS"
token="CANARY-$(date +%s)-$$"
echo "$token" > "$H/.ssh/id_canary"
echo "$token" > "$H/.aws/credentials"
echo "$token" > "$H/outside-file"
if ! (cd "$WS" && git init -q . 2>/dev/null); then
	mkdir -p "$WS/.git" && echo "[core]" > "$WS/.git/config"
fi
mkdir -p "$WS/.git/hooks"
echo "SECRET=$token" > "$WS/.env"
mkdir -p "$WS/config" && echo "SECRET=$token" > "$WS/config/.env.local"
ln -s "$H/link-target" "$WS/link-out"
ln -s "$H/.ssh/id_canary" "$WS/link-secret"
# Helpers the process probes run inside the sandbox.
cat > "$WS/setsid-child.pl" <<'PERL'
use POSIX;
if (fork() == 0) { POSIX::setsid(); open(F, ">", "s.pid"); print F "$$\n"; close(F); exec("sleep", "600"); }
sleep 1; exit 0;
PERL
cat > "$WS/double-fork.pl" <<'PERL'
use POSIX;
if (fork() == 0) { POSIX::setsid(); if (fork() == 0) { open(F, ">", "d.pid"); print F "$$\n"; close(F); exec("sleep", "600"); } exit 0; }
exit 0;
PERL

pass=0
fail=0
limits=0
ok() { pass=$((pass + 1)); printf 'PASS  %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL  %s%s\n' "$1" "${2:+: $2}"; }
limit() { limits=$((limits + 1)); printf 'LIMIT %s%s\n' "$1" "${2:+: $2}"; }

# sb runs a shell command in the sandbox, in the workspace, with the
# throw-away HOME; its output goes to $work/out.
sb() {
	(cd "$WS" && HOME=$H PATH=/usr/bin:/bin:/usr/sbin:/sbin "$CORDON" run "$@") > "$work/out" 2> "$work/err" < /dev/null
}
sbsh() { sb -- /bin/sh -c "$1"; }
unchanged() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }
no_canary() { ! grep -q "$token" "$work/out"; }

echo "cordon: $CORDON"
echo "home:   $H"
echo

# --- doctor -------------------------------------------------------------
if HOME=$H "$CORDON" doctor > "$work/doctor" 2>&1; then ok "cordon doctor: the default mode works"; else bad "cordon doctor" "$(tail -3 "$work/doctor")"; fi

# --- writes -------------------------------------------------------------
sbsh 'echo ok > ok.txt'
if unchanged "$WS/ok.txt" ok; then ok "write in the workspace"; else bad "write in the workspace" "$(cat "$work/err")"; fi

sbsh "echo x > '$H/outside'"
if [ ! -e "$H/outside" ]; then ok "write outside the workspace is refused"; else bad "write outside the workspace"; fi

sbsh 'echo x > link-out'
if [ ! -e "$H/link-target" ]; then ok "write through a symlink out is refused"; else bad "write through a symlink"; fi

sbsh "echo x > /tmp/cordon-verify-$$"
if [ ! -e "/tmp/cordon-verify-$$" ]; then ok "write to the shared /tmp is refused"; else rm -f "/tmp/cordon-verify-$$"; bad "write to /tmp"; fi

sbsh "mkdir -p '$H/Library/LaunchAgents' && echo x > '$H/Library/LaunchAgents/evil.plist'"
if [ ! -e "$H/Library/LaunchAgents/evil.plist" ]; then ok "a launch agent cannot be planted"; else bad "launch agent planted"; fi

sbsh 'echo "TMPDIR=$TMPDIR"; echo x > "$TMPDIR/t" && echo wrote'
if grep -q wrote "$work/out"; then ok "the private TMPDIR is writable"; else bad "private TMPDIR" "$(cat "$work/err")"; fi

cfg=$(cat "$WS/.git/config")
sbsh 'echo "[core] hooksPath = /tmp" >> .git/config'
if unchanged "$WS/.git/config" "$cfg"; then ok ".git/config stays read-only"; else bad ".git/config was changed"; fi

sbsh 'echo "#!/bin/sh" > .git/hooks/pre-commit'
if [ ! -e "$WS/.git/hooks/pre-commit" ]; then ok "no hook can be added"; else bad "a hook was added"; fi

sbsh 'mv .git .git-moved'
if [ -d "$WS/.git" ] && [ ! -e "$WS/.git-moved" ]; then ok ".git cannot be renamed away"; else bad ".git was renamed"; mv "$WS/.git-moved" "$WS/.git" 2>/dev/null; fi

sbsh 'mkdir .vscode; echo "{}" > .mcp.json; mkdir -p .claude && echo x > .claude/settings.json'
if [ ! -e "$WS/.vscode" ] && [ ! -e "$WS/.mcp.json" ] && [ ! -e "$WS/.claude" ]; then ok "absent protected paths stay uncreatable"; else bad "an absent protected path was created" "$(ls -a "$WS")"; fi

sbsh "ln '$H/outside-file' hl; echo x >> hl"
if unchanged "$H/outside-file" "$token"; then ok "a hard link cannot reach a file outside"; else bad "a file outside changed through a hard link"; fi

# --- reads ---------------------------------------------------------------
sbsh "cat '$H/.ssh/id_canary'; cat '$H/.aws/credentials'"
if no_canary; then ok "secrets in ~/.ssh and ~/.aws are unreadable"; else bad "a secret was read"; fi

sbsh 'cat link-secret'
if no_canary; then ok "a symlink to a secret does not read it"; else bad "a secret was read through a symlink"; fi

sbsh "cat '$H/.SSH/id_canary' '$H/.Aws/Credentials' 2>/dev/null"
if no_canary; then ok "a secret is unreadable under another case"; else bad "a secret was read under another case (case-insensitive volume)"; fi

sbsh 'cat .env config/.env.local'
if no_canary; then ok ".env files in the workspace are unreadable"; else bad "a .env file was read"; fi

sbsh 'mv .env moved.env; cat moved.env; mv config cfg2; cat cfg2/.env.local'
if no_canary && [ -e "$WS/.env" ] && [ -d "$WS/config" ]; then ok "a .env cannot be renamed to be read"; else bad ".env renamed or read"; fi

sbsh 'ls / > /dev/null && cat /etc/hosts > /dev/null && echo listed'
if grep -q listed "$work/out"; then ok "the system stays readable"; else bad "the system is not readable" "$(cat "$work/err")"; fi

# --- network -------------------------------------------------------------
port=$((20000 + $$ % 20000))
nc -l 127.0.0.1 "$port" > "$work/listener" 2>/dev/null &
ncpid=$!
sleep 0.3
sbsh "echo $token | nc -w 2 127.0.0.1 $port"
sleep 0.3
kill "$ncpid" 2>/dev/null; wait "$ncpid" 2>/dev/null
if ! grep -q "$token" "$work/listener"; then ok "a loopback listener outside gets nothing"; else bad "a loopback listener outside got the canary"; fi

sbsh 'curl -s --max-time 5 https://example.com/ >/dev/null && echo reached'
if ! grep -q reached "$work/out"; then ok "no network without the proxy"; else bad "the network was reached"; fi

if [ "${VERIFY_NETWORK:-}" = 1 ]; then
	sb --allow-host example.com -- /bin/sh -c 'curl -s --max-time 10 -o /dev/null -w "%{http_code}" https://example.com/'
	if grep -q 200 "$work/out"; then ok "an allowed host is reached through the proxy"; else bad "the proxy does not reach an allowed host" "$(cat "$work/err")"; fi
	sb --allow-host example.com -- /bin/sh -c 'curl -s --max-time 10 --noproxy "*" https://example.com/ >/dev/null && echo reached'
	if ! grep -q reached "$work/out"; then ok "the proxy cannot be bypassed"; else bad "a direct connection bypassed the proxy"; fi
	sb --allow-host example.com -- /bin/sh -c 'curl -s --max-time 10 https://example.org/ >/dev/null && echo reached'
	if ! grep -q reached "$work/out"; then ok "a host not allowed is refused by the proxy"; else bad "a host not allowed was reached"; fi
fi

# --- services ------------------------------------------------------------
saved=$(pbpaste 2>/dev/null)
echo "$token" | pbcopy
sbsh 'pbpaste; echo planted | pbcopy'
after=$(pbpaste)
printf '%s' "$saved" | pbcopy
if no_canary && [ "$after" = "$token" ]; then ok "the pasteboard is neither read nor written"; else bad "the pasteboard was reached"; fi

sbsh 'security list-keychains; security find-generic-password -s cordon-verify 2>&1'
if ! grep -q '\.keychain' "$work/out"; then ok "the keychain is not reachable"; else bad "the keychain was listed"; fi

sbsh "osascript -e 'tell application \"Finder\" to get name' && echo scripted"
if ! grep -q scripted "$work/out"; then ok "AppleEvents are refused"; else bad "another application was scripted"; fi

before=$(pgrep -x Calculator)
sbsh 'open -g -a Calculator && echo opened'
sleep 1
nowcalc=$(pgrep -x Calculator)
if [ "$nowcalc" = "$before" ]; then ok "no application can be launched"; else bad "an application was launched"; [ -z "$before" ] && pkill -x Calculator; fi

label="cordon.verify.$$"
sbsh "launchctl submit -l $label -- /usr/bin/touch '$H/launchd-escape'"
sleep 1
if launchctl list "$label" >/dev/null 2>&1; then launchctl remove "$label"; bad "a launchd job was submitted"; elif [ -e "$H/launchd-escape" ]; then bad "a launchd job ran"; else ok "no launchd job can be submitted"; fi

# --- processes -----------------------------------------------------------
sleep 600 &
outside=$!
sbsh "kill -TERM $outside"
if kill -0 "$outside" 2>/dev/null; then ok "a process outside cannot be signalled"; else bad "a process outside was killed"; fi

sbsh "ps -ax -o pid= | grep -w $outside"
if ! grep -q "$outside" "$work/out"; then ok "processes outside are not listed"; else limit "processes outside are listed by pid" "ps sees them"; fi
kill "$outside" 2>/dev/null

sbsh 'sleep 600 & echo $! > bg.pid; exit 0'
if ! kill -0 "$(cat "$WS/bg.pid" 2>/dev/null || echo 1)" 2>/dev/null; then ok "a background process is killed when the command ends"; else bad "a background process survived"; kill "$(cat "$WS/bg.pid")"; fi

sbsh 'perl setsid-child.pl'
if ! kill -0 "$(cat "$WS/s.pid" 2>/dev/null || echo 1)" 2>/dev/null; then ok "a process that left the session (its parent alive) is killed"; else bad "a process that left the session survived"; kill "$(cat "$WS/s.pid")"; fi

sbsh 'perl double-fork.pl'
sleep 0.5
if ! kill -0 "$(cat "$WS/d.pid" 2>/dev/null || echo 1)" 2>/dev/null; then ok "a double fork out of the session was caught"; else limit "a double fork out of the session survived" "the stated limit (docs/macos.md): pid $(cat "$WS/d.pid"), killed now"; kill "$(cat "$WS/d.pid")"; fi

(cd "$WS" && HOME=$H PATH=/usr/bin:/bin exec "$CORDON" run -- /bin/sh -c 'sleep 600 & echo $! > k.pid; sleep 600' > /dev/null 2>&1 < /dev/null) &
cpid=$!
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -s "$WS/k.pid" ] && break; sleep 0.25; done
kill -9 "$cpid" 2>/dev/null # cordon itself
sleep 2
if ! kill -0 "$(cat "$WS/k.pid" 2>/dev/null || echo 1)" 2>/dev/null; then ok "killing cordon kills the run"; else bad "the run survived cordon's death"; kill "$(cat "$WS/k.pid")"; fi

# TIOCSTI, _IOW('t', 114, char): refused for a caller without a controlling
# terminal. Only meaningful on a terminal.
if [ -t 0 ]; then
	(cd "$WS" && HOME=$H "$CORDON" run -- /usr/bin/perl -e 'ioctl(STDIN, 0x80017472, "x") or exit 1; exit 0') > /dev/null 2>&1
	if [ $? -ne 0 ]; then ok "TIOCSTI on the terminal is refused"; else bad "TIOCSTI typed into the terminal"; fi
fi

echo
if [ "$limits" -gt 0 ]; then
	echo "$pass passed, $fail failed ($limits known limits seen, see docs/macos.md)"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
