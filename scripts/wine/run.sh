#!/usr/bin/env bash
# Runs cordon's Windows tests under Wine.
#
# Builds the bcryptprimitives.dll shim that Go's runtime needs under Wine 8,
# prepares a fresh Wine prefix with it in system32, cross-compiles the test
# binary of internal/apply/windows and runs it. Wine runs the Windows calls
# but enforces nothing, so this proves the launch path (restricted token,
# suspended start, job object, exit codes, timeouts, kill on close; the
# elevated mode's runner, started with CreateProcess because Wine's
# CreateProcessWithLogonW is a stub; setup and undo as far as Wine's account
# calls go), not the security. Anything missing is a failure, never a skip.
#
# Usage: scripts/wine/run.sh [extra test flags, e.g. -test.run=TestRunTimeout]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

fail() { echo "wine tests: FAIL: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 not found; install the Debian packages $2 (see scripts/wine/README.md)"; }
need wine "wine wine64"
need wineserver "wine wine64"
need x86_64-w64-mingw32-gcc "gcc-mingw-w64-x86-64"
need go "Go 1.26"

work=$(mktemp -d "${TMPDIR:-/tmp}/cordon-wine.XXXXXX")
export WINEPREFIX="$work/prefix" WINEARCH=win64 WINEDEBUG=-all
# No Mono or Gecko: nothing here needs them, and installing them would want
# the network.
export WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
	wineserver -k >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "wine tests: $(wine --version) in $WINEPREFIX"

x86_64-w64-mingw32-gcc -shared -O2 -Wall -Werror -o "$work/bcryptprimitives.dll" \
	"$here/bcryptprimitives.c" "$here/bcryptprimitives.def" ||
	fail "building the ProcessPrng shim"

if ! wine wineboot --init >"$work/wineboot.log" 2>&1; then
	cat "$work/wineboot.log" >&2
	fail "wineboot could not create the Wine prefix"
fi
wineserver -w
[ -d "$WINEPREFIX/drive_c/windows/system32" ] || fail "the Wine prefix has no drive_c/windows/system32"
cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"

(cd "$repo" && CGO_ENABLED=0 GOOS=windows GOARCH=amd64 \
	go test -c -o "$work/winapply.test.exe" ./internal/apply/windows) ||
	fail "cross-compiling the Windows test binary"

set +e
wine "$work/winapply.test.exe" -test.v -test.count=1 -test.timeout=10m "$@" 2>&1 | tee "$work/test.log"
status=${PIPESTATUS[0]}
set -e

passed=$(grep -c -- '^--- PASS' "$work/test.log" || true)
failed=$(grep -c -- '^--- FAIL' "$work/test.log" || true)
skipped=$(grep -c -- '^--- SKIP' "$work/test.log" || true)
echo "wine: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] || fail "the test binary exited with status $status"
[ "$passed" -gt 0 ] || fail "no test ran (Wine may not have started the Go binary: is the shim in system32?)"
[ "$skipped" -eq 0 ] || fail "$skipped test(s) skipped; under Wine every test must run"
