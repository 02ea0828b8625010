#!/bin/sh
# Re-captures the real firewall dumps the netfilter tests read, by loading each source file into a
# throwaway network namespace (root; needs nft, iptables-restore and iptables-save).
#   nft/NAME.nft              -> nft/NAME.json            (nft -j list ruleset)
#   iptables/NAME.rules       -> iptables/NAME.save       (iptables-save; ip6tables for ip6tables*)
#   iptables/basic.rules      -> nft/iptables-nft.json    (how iptables-nft rules look to nft)
# What the real tools write (firewalld, ufw, iptables-legacy, libvirt's NAT network, docker's
# chains) is captured by capture-tools.sh into real/NAME.json, as migdoctor's collector reads it.
set -eu
cd "$(dirname "$0")"
ns=mdfw-cap
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT INT TERM

fresh() {
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
}

for src in nft/*.nft; do
    case "$src" in nft/iptables-nft.nft) continue ;; esac
    fresh
    ip netns exec "$ns" nft -f "$src"
    ip netns exec "$ns" nft -j list ruleset >"${src%.nft}.json"
done

for src in iptables/*.rules; do
    case "$(basename "$src")" in ip6tables*) tool=ip6tables ;; *) tool=iptables ;; esac
    fresh
    ip netns exec "$ns" "$tool-restore" <"$src"
    ip netns exec "$ns" "$tool-save" | grep -v '^# \(Generated\|Completed\)' >"${src%.rules}.save"
done

fresh
ip netns exec "$ns" iptables-restore <iptables/basic.rules
ip netns exec "$ns" nft list ruleset >nft/iptables-nft.nft
ip netns exec "$ns" nft -j list ruleset >nft/iptables-nft.json
