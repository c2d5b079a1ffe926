#!/usr/bin/env bash
# A multi-homed host with two uplinks, built from network namespaces and veth pairs. Used by the
# netns tests (test/netns/topology.ts) and by `npm run demo`.
#
#            ethA 198.18.1.2 / fd00:a::2          198.18.3.0/24
#   host ─── veth ─── routerA (rp_filter=1, nft) ─── far (198.19.0.1 / fd00:99::1 on lo)
#        └── veth ─── routerB (rp_filter=1, nft) ───┘
#            ethB 198.18.2.2 / fd00:b::2          198.18.4.0/24
#
# usage: HOST=… ROUTER_A=… ROUTER_B=… FAR=… [POLICY=1] [SPOOF6=1] two-uplinks.sh up|down
set -euo pipefail
: "${HOST:?}" "${ROUTER_A:?}" "${ROUTER_B:?}" "${FAR:?}"

if [ "${1:-}" = down ]; then
  for ns in $HOST $ROUTER_A $ROUTER_B $FAR; do
    # A process left inside a namespace keeps it alive: end them first.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  exit 0
fi
[ "${1:-}" = up ] || { echo "usage: $0 up|down" >&2; exit 64; }
for ns in $HOST $ROUTER_A $ROUTER_B $FAR; do
  ip netns add $ns
  ip -n $ns link set lo up
  # No duplicate address detection: addresses are usable at once, link-local ones too.
  ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip link add ethA netns $HOST type veth peer name down0 netns $ROUTER_A
ip link add ethB netns $HOST type veth peer name down0 netns $ROUTER_B
ip link add up0 netns $ROUTER_A type veth peer name fromA netns $FAR
ip link add up0 netns $ROUTER_B type veth peer name fromB netns $FAR

# Routers forward, and drop what a strong end system would never send (reverse-path filter).
for r in $ROUTER_A $ROUTER_B; do
  ip netns exec $r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
    net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
  ip netns exec $r sysctl -qw net.ipv4.conf.down0.rp_filter=1 net.ipv4.conf.up0.rp_filter=1
done
# The multi-homed host: loose rp_filter so replies may come back on either uplink, and ARP
# from the address of the asking interface so one test's mismatch cannot poison the next.
ip netns exec $HOST sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=2 \
  net.ipv4.conf.all.arp_announce=2

ip -n $HOST addr add 198.18.1.2/24 dev ethA
ip -n $HOST addr add 198.18.1.3/24 dev ethA
ip -n $HOST addr add fd00:a::2/64 dev ethA nodad
ip -n $HOST addr add fd00:a::3/64 dev ethA nodad preferred_lft 0
ip -n $HOST addr add 198.18.2.2/24 dev ethB
ip -n $HOST addr add 198.18.2.3/24 dev ethB
ip -n $HOST addr add fd00:b::2/64 dev ethB nodad
ip -n $HOST addr add fd00:b::3/64 dev ethB nodad preferred_lft 0
ip -n $ROUTER_A addr add 198.18.1.1/24 dev down0
ip -n $ROUTER_A addr add fd00:a::1/64 dev down0 nodad
ip -n $ROUTER_B addr add 198.18.2.1/24 dev down0
ip -n $ROUTER_B addr add fd00:b::1/64 dev down0 nodad
ip -n $ROUTER_A addr add 198.18.3.1/24 dev up0
ip -n $ROUTER_A addr add fd00:3::1/64 dev up0 nodad
ip -n $ROUTER_B addr add 198.18.4.1/24 dev up0
ip -n $ROUTER_B addr add fd00:4::1/64 dev up0 nodad
ip -n $FAR addr add 198.18.3.2/24 dev fromA
ip -n $FAR addr add fd00:3::2/64 dev fromA nodad
ip -n $FAR addr add 198.18.4.2/24 dev fromB
ip -n $FAR addr add fd00:4::2/64 dev fromB nodad
ip -n $FAR addr add 198.19.0.1/32 dev lo
ip -n $FAR addr add fd00:99::1/128 dev lo

for ns in $HOST $ROUTER_A $ROUTER_B $FAR; do
  for dev in $(ip -n $ns -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$'); do
    ip -n $ns link set $dev up
  done
done

# Host: a default route via A and a worse one via B, both families.
ip -n $HOST route add default via 198.18.1.1 dev ethA metric 100
ip -n $HOST route add default via 198.18.2.1 dev ethB metric 200
ip -n $HOST -6 route add default via fd00:a::1 dev ethA metric 100
ip -n $HOST -6 route add default via fd00:b::1 dev ethB metric 200
# Routers know the far server and the far server answers each subnet through its router.
ip -n $ROUTER_A route add 198.19.0.1/32 via 198.18.3.2
ip -n $ROUTER_A -6 route add fd00:99::1/128 via fd00:3::2
ip -n $ROUTER_B route add 198.19.0.1/32 via 198.18.4.2
ip -n $ROUTER_B -6 route add fd00:99::1/128 via fd00:4::2
ip -n $FAR route add 198.18.1.0/24 via 198.18.3.1
ip -n $FAR -6 route add fd00:a::/64 via fd00:3::1
ip -n $FAR route add 198.18.2.0/24 via 198.18.4.1
ip -n $FAR -6 route add fd00:b::/64 via fd00:4::1

# Routes that answer with an error instead of an interface.
ip -n $HOST route add unreachable 198.19.66.0/24
ip -n $HOST route add blackhole 198.19.67.0/24
ip -n $HOST route add prohibit 198.19.68.0/24
ip -n $HOST -6 route add unreachable fd00:66::/64
ip -n $HOST -6 route add blackhole fd00:67::/64
ip -n $HOST -6 route add prohibit fd00:68::/64
if [ "${SPOOF6:-1}" = 1 ]; then
  for r in $ROUTER_A $ROUTER_B; do
    ip netns exec $r nft -f - <<'NFT'
table inet antispoof {
  chain forward {
    type filter hook forward priority 0; policy accept;
    meta nfproto ipv6 fib saddr . iif oif missing drop
  }
}
NFT
  done
fi
if [ "${POLICY:-1}" = 1 ]; then
# Policy: table 100 leaves through B; chosen by source, mark, uid, tos and port.
ip -n $HOST route add default via 198.18.2.1 dev ethB table 100
ip -n $HOST -6 route add default via fd00:b::1 dev ethB metric 100 table 100
ip -n $HOST rule add from 198.18.1.3 lookup 100 pref 1000
ip -n $HOST rule add fwmark 0x42 lookup 100 pref 1001
ip -n $HOST rule add uidrange 4242-4242 lookup 100 pref 1002
ip -n $HOST rule add tos 0x10 lookup 100 pref 1003
ip -n $HOST rule add ipproto udp dport 5353 lookup 100 pref 1004
ip -n $HOST rule add ipproto tcp sport 4000 lookup 100 pref 1005
ip -n $HOST -6 rule add from fd00:a::3 lookup 100 pref 1000
ip -n $HOST -6 rule add fwmark 0x42 lookup 100 pref 1001
ip -n $HOST -6 rule add uidrange 4242-4242 lookup 100 pref 1002
ip -n $HOST -6 rule add ipproto udp dport 5353 lookup 100 pref 1004
fi
