#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Multi-host test in network namespaces: four "hosts" (namespaces) on one bridge, a zmesh-node
# in each. Shows beacon discovery across hosts, events and RPC between them, that the mesh
# still converges and RPC ends cleanly under 5% loss and 50 ms delay, and that a host cut
# off is declared left everywhere and rejoins when healed.
#
# Usage (root): tests/netns/multi_host.sh BUILD_BIN_DIR
# Exit 0 PASS, 1 FAIL, 77 skipped (not root, no `ip netns` or `tc`).
# Nothing is created in this machine's own namespace: the bridge lives in a "switch"
# namespace, each veth pair is made there with its peer moved straight into a host namespace.
# Every namespace and process is removed on exit, whatever happens.
set -euo pipefail

bin=${1:?usage: multi_host.sh BUILD_BIN_DIR}
skip() { echo "multi_host: skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v ip >/dev/null && command -v tc >/dev/null || skip "needs ip and tc (iproute2)"

prefix="zmn$$"
switch="$prefix-sw"
hosts=(a b c d)
work=$(mktemp -d /tmp/zmesh-netns-XXXXXX)
mesh="netns-$$"
timing=(--heartbeat 250 --evasive 1000 --expire 3000)
namespaces=()

cleanup() {
    local ns pid
    for ns in "${namespaces[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "multi_host: FAIL: $*"
    for f in "$work"/*.out; do echo "--- $(basename "$f")"; tail -8 "$f"; done
    exit 1
}

ms_now() { date +%s%3N; }

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 100 ms until it succeeds.
wait_for() {
    local limit=$1 what=$2; shift 2
    local deadline=$(( $(ms_now) + limit * 1000 ))
    until "$@"; do
        [ "$(ms_now)" -lt "$deadline" ] || fail "$what (after ${limit} s)"
        sleep 0.1
    done
}

lines() { grep -c "^$2" "$work/$1.out" 2>/dev/null || true; }
# Each host's node sees all the others joined (as many "joined X" as expected).
sees() { local n=$1; shift; local o; for o in "$@"; do [ "$(lines "$n" "joined $o ")" -ge 1 ] || return 1; done; }

ip netns add "$switch" 2>/dev/null || skip "cannot create network namespaces"
namespaces+=("$switch")
ip -n "$switch" link add br0 type bridge
# No IGMP querier here: without this the bridge would stop forwarding the beacons' multicast.
ip -n "$switch" link set br0 type bridge mcast_snooping 0
ip -n "$switch" link set br0 up

declare -A addr pid
i=0
for h in "${hosts[@]}"; do
    i=$((i + 1))
    ns="$prefix-$h"
    ip netns add "$ns"
    namespaces+=("$ns")
    ip -n "$switch" link add "port$i" type veth peer name eth0 netns "$ns"
    ip -n "$switch" link set "port$i" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$ns" addr add "10.213.0.$i/24" dev eth0
    ip -n "$ns" route add 224.0.0.0/4 dev eth0
    addr[$h]="10.213.0.$i"
done

# start NAME HOST [flags...]: a zmesh-node named NAME in HOST's namespace.
start() {
    local name=$1 h=$2; shift 2
    ip netns exec "$prefix-$h" "$bin/zmesh-node" --name "$name" --mesh "$mesh" --interface eth0 \
        --bind "${addr[$h]}" "${timing[@]}" "$@" > "$work/$name.out" 2> "$work/$name.err" &
    pid[$name]=$!
    disown "$!"   # cleanup kills it: no "Killed" notice from the shell
}

# --- 1. discovery by beacon across hosts
t0=$(ms_now)
start a a --publish t.x --rate 20
start b b --serve echo
start c c --subscribe t.
start d d
for h in a b c d; do
    others=(); for o in a b c d; do [ "$o" = "$h" ] || others+=("$o"); done
    wait_for 10 "$h does not see ${others[*]}" sees "$h" "${others[@]}"
done
echo "multi_host: 1 discovery: 4 hosts see each other in $(( $(ms_now) - t0 )) ms"

# --- 2. events and RPC between hosts
wait_for 10 "c got no event from a" bash -c "grep -q '\"name\":\"a\"' '$work/c.out'"
out=$(ip netns exec "$prefix-d" "$bin/zmesh" call echo '"across hosts"' --mesh "$mesh" --interface eth0 \
      --bind "${addr[d]}" --timeout 5000 2>"$work/call.err") || fail "call d -> b: $(cat "$work/call.err")"
[ "$out" = '"across hosts"' ] || fail "echo returned $out"
echo "multi_host: 2 events a -> c: $(lines c 'event ') received; RPC d -> b: $out"

# --- 3. 5% loss and 50 ms delay on every host (netem); a kernel without sch_netem gets a
# 1 Mbit/s shaped link instead (tbf: queueing delay, no loss), and says so.
impairment="5% loss, 50 ms delay"
for h in a b c d; do
    if ! ip netns exec "$prefix-$h" tc qdisc add dev eth0 root netem loss 5% delay 50ms 2>/dev/null; then
        impairment="1 Mbit/s shaping (this kernel has no netem: no loss)"
        ip netns exec "$prefix-$h" tc qdisc add dev eth0 root tbf rate 1mbit burst 32kbit latency 50ms \
            || fail "neither netem nor tbf can shape eth0"
    fi
done
echo "multi_host: 3 impairment on every host: $impairment"
t0=$(ms_now)
start e d   # a newcomer on host d must still be found by all
for h in a b c; do wait_for 20 "$h does not see e under loss" sees "$h" e; done
echo "multi_host: 3 newcomer joined all hosts under impairment in $(( $(ms_now) - t0 )) ms"
ok=0; failed=0
for k in $(seq 10); do
    start_ms=$(ms_now)
    if ip netns exec "$prefix-c" "$bin/zmesh" call echo "$k" --mesh "$mesh" --interface eth0 \
            --bind "${addr[c]}" --timeout 2000 > "$work/call$k.txt" 2>&1; then
        ok=$((ok + 1))
    else
        failed=$((failed + 1))
        [ "$(wc -l < "$work/call$k.txt")" -le 2 ] || fail "call $k failed noisily: $(cat "$work/call$k.txt")"
    fi
    took=$(( $(ms_now) - start_ms ))
    [ "$took" -lt 15000 ] || fail "call $k hung for $took ms"
done
[ "$ok" -ge 1 ] || fail "no call completed under impairment"
echo "multi_host: 3 RPC under impairment: $ok completed, $failed failed cleanly"
for h in a b c d; do ip netns exec "$prefix-$h" tc qdisc del dev eth0 root; done

# --- 4. partition host d (nodes d and e), then heal
left_before=$(lines a 'left d ')
t0=$(ms_now)
ip -n "$prefix-d" link set eth0 down
for h in a b c; do wait_for 8 "$h did not see d leave" bash -c "[ \$(grep -c '^left d ' '$work/$h.out') -gt $left_before ]"; done
echo "multi_host: 4 partition: d declared left by a, b, c in $(( $(ms_now) - t0 )) ms"
wait_for 8 "d did not see a leave" bash -c "grep -q '^left a ' '$work/d.out'"
t0=$(ms_now)
ip -n "$prefix-d" link set eth0 up
ip -n "$prefix-d" route replace 224.0.0.0/4 dev eth0
for h in a b c; do wait_for 15 "$h did not see d rejoin" bash -c "[ \$(grep -c '^joined d ' '$work/$h.out') -ge 2 ]"; done
wait_for 15 "d did not see a rejoin" bash -c "[ \$(grep -c '^joined a ' '$work/d.out') -ge 2 ]"
echo "multi_host: 4 healed: d rejoined everywhere in $(( $(ms_now) - t0 )) ms"
echo "multi_host: PASS"
