#!/bin/sh
# Benchmarks cordon's proxy against direct connections on loopback, in one
# run, and prints the medians and the proxy/direct ratios:
#
#   - throughput of a 1 GiB transfer (goal: at least 90% of direct),
#   - latency of 1,000 sequential short connections,
#   - 1,000 concurrent tunnels held open (any error fails the run),
#   - an HTTPS download of 1 GiB from an intercepted host (credential
#     injection) against the same through a plain tunnel (goal: at least
#     80% of the tunnel), with the CPU each took (client, server and proxy
#     share the process), which the machine's other load disturbs less.
#
# Usage: bench/proxy/run.sh [COUNT]   (default 5 repetitions; the median is
# reported because loopback numbers on a shared machine are noisy).
# bench/proxy/veth.sh measures throughput over a veth link limited by tc,
# and the proxy's CPU per GiB in a process of its own.
set -eu
count=${1:-5}
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "go test -run '^\$' -bench . -benchtime 1x -count $count ./internal/netproxy/" >&2
go test -run '^$' -bench . -benchtime 1x -count "$count" ./internal/netproxy/ | tee "$out" >&2

awk '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "MB/s" || $(i+1) == "µs/conn" || $(i+1) == "ns/op" || $(i+1) == "CPU-ms/GiB") {
			key = name SUBSEP $(i+1)
			n[key]++; v[key, n[key]] = $i
		}
	}
}
function median(key,   i, j, t, m, a) {
	m = n[key]
	for (i = 1; i <= m; i++) a[i] = v[key, i] + 0
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
	d = median("BenchmarkThroughput/direct" SUBSEP "MB/s")
	printf "\nThroughput, 1 GiB (median MB/s, share of direct):\n"
	split("direct connect connect-unix socks5", routes, " ")
	for (r = 1; r <= 4; r++) {
		k = "BenchmarkThroughput/" routes[r] SUBSEP "MB/s"
		if (n[k]) printf "  %-13s %8.0f MB/s  %5.1f%%\n", routes[r], median(k), 100 * median(k) / d
	}
	l = median("BenchmarkLatency/direct" SUBSEP "µs/conn")
	printf "\nLatency, 1,000 sequential connections (median per connection):\n"
	for (r = 1; r <= 4; r++) {
		k = "BenchmarkLatency/" routes[r] SUBSEP "µs/conn"
		if (n[k]) printf "  %-13s %8.1f µs   +%.1f µs over direct\n", routes[r], median(k), median(k) - l
	}
	printf "\n1,000 concurrent tunnels held open, time to open and check all (median):\n"
	for (r = 2; r <= 4; r++) {
		k = "BenchmarkConcurrent/" routes[r] SUBSEP "ns/op"
		if (n[k]) printf "  %-13s %8.0f ms, no errors\n", routes[r], median(k) / 1e6
	}
	printf "\nHTTPS download of 1 GiB, intercepted (credential injected) vs tunnelled (median MB/s; CPU-ms/GiB of the whole process):\n"
	split("h2 h1", protos, " ")
	for (r = 1; r <= 2; r++) {
		t = "BenchmarkInterceptThroughput/tunnel/" protos[r] SUBSEP "MB/s"
		i = "BenchmarkInterceptThroughput/intercepted/" protos[r] SUBSEP "MB/s"
		tc = "BenchmarkInterceptThroughput/tunnel/" protos[r] SUBSEP "CPU-ms/GiB"
		ic = "BenchmarkInterceptThroughput/intercepted/" protos[r] SUBSEP "CPU-ms/GiB"
		if (n[t] && n[i]) printf "  %-13s tunnel %6.0f  intercepted %6.0f  %5.1f%%", protos[r], median(t), median(i), 100 * median(i) / median(t)
		if (n[t] && n[i] && n[tc] && n[ic]) printf "   CPU %5.0f vs %5.0f ms/GiB", median(tc), median(ic)
		if (n[t] && n[i]) printf "\n"
	}
}' "$out"
