#!/usr/bin/env bash
# Benchmarks cordon's proxy where the link, not the machine, is the limit:
# the sink runs in a network namespace behind a veth pair, and a bulk
# transfer goes to it direct and through the proxy (CONNECT over TCP, and
# over a unix socket, the sandbox's path), interleaved, for each link:
#
#   - loopback (no namespace): the proxy's CPU-seconds per GiB,
#   - the veth without a limit (the ceiling on this machine),
#   - the veth limited by tc to 10 Gbit/s, then to 1 Gbit/s
#     (goal: the proxy at least 95% of direct).
#
# Both directions are measured: up (client to sink) and down (sink to
# client). The proxy and the sink run in processes of their own, so the
# CPU times are each one's own (getrusage, user + system). One caveat:
# the kernel charges network work to whichever process is running when it
# is done (without IRQ time accounting), and on loopback and veth a
# sender's system call often does its receiver's TCP processing, so a
# figure includes some of its peer's work. The "added" column, the three
# processes together minus the direct route's, is the cost of the proxy
# hop free of that shift. Work done in ksoftirqd is charged to none.
#
# The limit is a tbf qdisc on the egress of each veth end, so both
# directions are limited:
#   rate R  burst R x 2 ms (at least 128 KiB)  latency 20ms
# The burst must hold the largest GSO packet the veth hands to the qdisc
# (64 KiB here; a smaller bucket makes tbf split every packet in software)
# and must cover the time the dequeue can be late on a loaded machine:
# tokens beyond the bucket are lost, and the link then runs below R for
# both routes alike. At 10 Gbit/s 2 ms is 2.5 MB; the burst lets at most
# that much through faster than R, 0.1% of a 2 GiB transfer. latency bounds
# the queue (R x 20 ms + burst) before tbf drops.
#
# Usage: bench/proxy/veth.sh [COUNT]   (default 5 runs of each route and
# direction; medians are reported). Needs root (namespaces, tc) and
# iproute2, which it installs from Debian when missing. About 3 minutes.
set -euo pipefail
count=${1:-5}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "veth.sh: needs root: it creates a network namespace, a veth pair and tc qdiscs" >&2
	exit 1
fi
if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q iproute2 >/dev/null
fi

# Names unique to this run; the veth names stay within IFNAMSIZ (15).
ns=cordon-pb-$$
host=cpb$$h
peer=cpb$$n
# A /30 out of 10.200.0.0/13 chosen by the PID, checked against the
# addresses already in use.
a=$((200 + $$ % 8)) b=$((($$ / 8) % 256)) c=$(((($$ / 2048) % 64) * 4))
hostip=10.$a.$b.$((c + 1)) sinkip=10.$a.$b.$((c + 2))
if ip -o -4 addr show | grep -q "inet 10\.$a\.$b\.$((c + 1))/\|inet 10\.$a\.$b\.$((c + 2))/"; then
	echo "veth.sh: 10.$a.$b.$c/30 is already in use on this machine; run again (the PID picks another)" >&2
	exit 1
fi

work=$(mktemp -d /var/tmp/cordon-veth.XXXXXX)
cleanup() {
	# Only processes inside this run's namespace, which are this run's.
	ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true # removes the pair with its end
	ip link del "$host" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$work/veth" ./bench/proxy/veth)

ip netns add "$ns"
ip link add "$host" type veth peer name "$peer"
ip link set "$peer" netns "$ns"
ip addr add "$hostip/30" dev "$host"
ip link set "$host" up
ip -n "$ns" addr add "$sinkip/30" dev "$peer"
ip -n "$ns" link set "$peer" up
ip -n "$ns" link set lo up

limit() { # RATE_MBIT: a tbf on both ends, or none for ""
	local rate=$1
	if [ -z "$rate" ]; then
		tc qdisc del dev "$host" root 2>/dev/null || true
		tc -n "$ns" qdisc del dev "$peer" root 2>/dev/null || true
		return
	fi
	local burst=$((rate * 1000000 / 8 / 500)) # rate x 2 ms, in bytes
	[ "$burst" -lt 131072 ] && burst=131072
	tc qdisc replace dev "$host" root tbf rate "${rate}mbit" burst "$burst" latency 20ms
	tc -n "$ns" qdisc replace dev "$peer" root tbf rate "${rate}mbit" burst "$burst" latency 20ms
	echo "tc qdisc on both ends: $(tc qdisc show dev "$host")" >>"$out"
}

out=$work/out
{
	echo "kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "congestion control: $(sysctl -n net.ipv4.tcp_congestion_control) (host), $(ip netns exec "$ns" sysctl -n net.ipv4.tcp_congestion_control) (sink's namespace)"
	echo "veth $host <-> $peer ($sinkip in $ns), mtu $(cat /sys/class/net/"$host"/mtu)"
} | tee "$out" >&2

run() { # LABEL BYTES DRIVER-ARGS...
	local label=$1 bytes=$2
	shift 2
	echo "== $label" >&2
	"$work/veth" -label "$label" -bytes "$bytes" -count "$count" "$@" >>"$out"
}

qdisc_stats() { # drops show where tbf's queue overflowed (TCP resent)
	local up down
	up=$(tc -s qdisc show dev "$host" | grep -o 'dropped [0-9]*, overlimits [0-9]*')
	down=$(tc -n "$ns" -s qdisc show dev "$peer" | grep -o 'dropped [0-9]*, overlimits [0-9]*')
	echo "  tbf: up $up; down $down" >>"$out"
}

run "loopback" 1GiB
run "veth, no limit" 1GiB -netns "$ns" -sink-ip "$sinkip"
limit 10000
run "veth, tbf 10 Gbit/s" 1GiB -netns "$ns" -sink-ip "$sinkip"
qdisc_stats
limit ""
limit 1000 # a fresh qdisc: its counters start at zero
run "veth, tbf 1 Gbit/s" 256MiB -netns "$ns" -sink-ip "$sinkip"
qdisc_stats
limit ""
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
echo >&2
cat "$out"
