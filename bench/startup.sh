#!/usr/bin/env bash
# Measures what starting a command in a sandbox costs: /bin/true run bare,
# under `cordon run` (every layer on, the built-in default policy, the audit
# trail's file sink on), under `cordon run` with the audit trail off, and
# under bubblewrap with the equivalent workspace-write, no-network flags, all
# in one hyperfine run so that they share the machine's noise. Prints the
# time each adds over the bare start.
#
# Usage: bench/startup.sh [RUNS]    (needs hyperfine, bwrap and jq; as root it
#                                    installs them from Debian if missing)
set -euo pipefail
runs=${1:-200}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

for tool in hyperfine bwrap jq; do
	if ! command -v "$tool" >/dev/null; then
		pkg=$tool
		[ "$tool" = bwrap ] && pkg=bubblewrap
		if [ "$(id -u)" = 0 ]; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null
		else
			echo "bench: $tool is missing (Debian package $pkg)" >&2
			exit 1
		fi
	fi
done

work=$(mktemp -d /var/tmp/cordon-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ws="$work/ws"
mkdir -p "$ws"
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$work/cordon" ./cmd/cordon)
cd "$ws"
"$work/cordon" run -- /bin/true # fails loudly here if the sandbox cannot start
printf 'version = 1\n[audit.file]\nenabled = false\n' >"$work/no-audit.toml"

bwrap_cmd="bwrap --ro-bind / / --dev /dev --proc /proc --bind $ws $ws --unshare-all --die-with-parent --new-session /bin/true"
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/out.json" \
	-n bare /bin/true \
	-n cordon "$work/cordon run -- /bin/true" \
	-n cordon-no-audit "$work/cordon run --policy $work/no-audit.toml -- /bin/true" \
	-n bwrap "$bwrap_cmd" >&2

echo
echo "kernel $(uname -r), $(nproc) cores, $runs runs each; mean ± stddev, median"
jq -r '
	(.results[] | select(.command == "bare") | .mean) as $bare
	| .results[]
	| "\(.command)\t\(.mean * 1000 | . * 100 | round / 100) ms ± \(.stddev * 1000 | . * 100 | round / 100)\tmedian \(.median * 1000 | . * 100 | round / 100) ms\tadded \((.mean - $bare) * 1000 | . * 100 | round / 100) ms"
' "$work/out.json" | column -t -s $'\t'
