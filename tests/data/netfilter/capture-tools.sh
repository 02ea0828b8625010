#!/bin/sh
# Captures what the real firewall tools write, as migdoctor's own collector reads it (the facts'
# "firewall" part), into real/NAME.json. Each scenario runs in a throwaway network namespace
# (fwcap-NAME) with a private mount namespace: /run is a fresh tmpfs (D-Bus socket, firewalld's
# and iptables' locks) and /etc/firewalld, /etc/ufw, /etc/libvirt are copies, so nothing on the
# machine changes. Root; needs firewalld, dbus, ufw, iptables, libvirt-daemon, dnsmasq-base.
# Links as on the lab's hostb: b-fast 198.51.100.2/24 (migration), b-lan 192.0.2.2/24.
#   sh capture-tools.sh [SCENARIO...]      (default: all)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
all="firewalld-public firewalld-internal firewalld-runtime-only ufw ufw-partial iptables-legacy libvirt-nat docker"

collect() {  # $1: scenario, $2: where it came from
    PYTHONPATH="$repo" /usr/bin/python3 - "$1" "$2" "$here/real/$1.json" <<'PY'
import json, sys
from migdoctor.facts.gaps import Gaps
from migdoctor.facts.firewall import collect_firewall
gaps = Gaps()
firewall = collect_firewall(gaps)
assert not gaps.entries, gaps.entries
for path in list(firewall["firewalld"] or {}):  # the files of zones this capture does not use stay out
    if "/services/" in path and not any(n in path for n in ("ssh", "libvirt", "dhcpv6-client", "mdns", "samba-client")):
        del firewall["firewalld"][path]
with open(sys.argv[3], "w") as out:
    json.dump({"scenario": sys.argv[1], "captured": sys.argv[2], "firewall": firewall}, out, indent=1, sort_keys=True)
    out.write("\n")
PY
}

links() {
    ip link set lo up
    ip link add b-fast type veth peer name b-fast-peer
    ip link add b-lan type veth peer name b-lan-peer
    ip addr add 198.51.100.2/24 dev b-fast
    ip addr add 192.0.2.2/24 dev b-lan
    for l in b-fast b-fast-peer b-lan b-lan-peer; do ip link set "$l" up; done
}

private() {  # the scenario's own /run and copies of the tools' configuration
    mount -t tmpfs none /run
    mkdir -p /run/dbus /run/firewalld
    for dir in /etc/firewalld /etc/ufw /etc/libvirt; do
        copy=$(mktemp -d)
        cp -a "$dir/." "$copy/"
        mount --bind "$copy" "$dir"
    done
}

firewalld_up() {
    dbus-daemon --system --fork --print-pid >/run/dbus-daemon.pid
    firewalld --nofork --nopid >/run/firewalld/log 2>&1 &
    echo $! >/run/firewalld/pid
    for _ in $(seq 50); do firewall-cmd --state >/dev/null 2>&1 && return 0; sleep 0.2; done
    cat /run/firewalld/log; return 1
}

firewalld_down() {
    kill "$(cat /run/firewalld/pid)" "$(cat /run/dbus-daemon.pid)" 2>/dev/null || true
}

scenario_firewalld() {  # $1: which state to capture
    firewalld_up
    fc() { firewall-cmd "$@" >/dev/null; }
    fc --permanent --zone=public --add-port=49152-49215/tcp
    fc --permanent --zone=public --add-service=ssh --add-service=libvirt
    fc --permanent --zone=public --add-interface=b-lan
    case "$1" in
    firewalld-internal | firewalld-runtime-only) fc --permanent --zone=internal --add-interface=b-fast ;;
    *) fc --permanent --zone=public --add-interface=b-fast ;;
    esac
    fc --reload
    if [ "$1" = firewalld-runtime-only ]; then fc --zone=internal --add-port=49152-49215/tcp; fi
    collect "$1" "firewalld 1.3.3 (Debian 12, nftables backend) started in a network namespace: \
zone public has ssh, libvirt and 49152-49215/tcp (permanent) with b-lan; b-fast is in zone \
$(firewall-cmd --get-zone-of-interface=b-fast)$([ "$1" = firewalld-runtime-only ] && echo ', where the range is open only in the runtime configuration (firewall-cmd --zone=internal --add-port=49152-49215/tcp)')"
    firewalld_down
}

scenario_ufw() {  # $1: ufw or ufw-partial
    last=49215
    [ "$1" = ufw-partial ] && last=49183
    ufw --force reset >/dev/null
    ufw default deny incoming >/dev/null
    ufw allow ssh >/dev/null
    ufw allow 16509/tcp >/dev/null
    ufw allow in on b-fast proto tcp to any port "49152:$last" >/dev/null
    ufw --force enable >/dev/null
    collect "$1" "ufw 0.36.2 (Debian 12, iptables-nft backend) in a network namespace: ufw --force reset; \
ufw default deny incoming; ufw allow ssh; ufw allow 16509/tcp; ufw allow in on b-fast proto tcp to any port 49152:$last; \
ufw --force enable"
}

scenario_iptables_legacy() {
    iptables-legacy -P INPUT DROP
    iptables-legacy -A INPUT -i lo -j ACCEPT
    iptables-legacy -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    iptables-legacy -A INPUT -i b-lan -p tcp -m multiport --dports 22,16509 -j ACCEPT
    iptables-legacy -A INPUT -i b-fast -p tcp --dport 49152:49183 -j ACCEPT
    collect iptables-legacy "iptables-legacy 1.8.9 (Debian 12) in a network namespace: INPUT policy DROP; \
lo and established accepted; 22,16509 on b-lan; only 49152-49183 on b-fast (the nft ruleset is empty)"
}

scenario_libvirt_nat() {
    mkdir -p /run/libvirt
    for dir in /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do mkdir -p "$dir"; mount -t tmpfs none "$dir"; done
    printf 'unix_sock_group = "root"\n' >/etc/libvirt/libvirtd.conf
    libvirtd --pid-file /run/libvirt/pid >/run/libvirt/log 2>&1 &
    for _ in $(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
    cat >/run/libvirt/default.xml <<'XML'
<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>
<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>
</network>
XML
    virsh -c qemu:///system net-create /run/libvirt/default.xml >/dev/null
    # the host's own firewall beside libvirt's: INPUT policy DROP, the migration range on b-fast
    iptables -P INPUT DROP
    iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    iptables -A INPUT -i b-lan -p tcp -m multiport --dports 22,16509 -j ACCEPT
    iptables -A INPUT -i b-fast -p tcp --dport 49152:49215 -j ACCEPT
    collect libvirt-nat "libvirt 9.0.0 (Debian 12) in a network namespace: its NAT network 'default' \
(virbr0 192.168.122.1/24, dnsmasq) written with iptables-nft, beside the host's INPUT policy DROP, \
22,16509 on b-lan and 49152:49215 on b-fast"
    virsh -c qemu:///system net-destroy default >/dev/null || true
    kill "$(cat /run/libvirt/pid)" 2>/dev/null || true
}

scenario_docker() {
    # docker is not runnable here: its chains as docker 24 writes them (docs.docker.com "Packet
    # filtering and firewalls", iptables backend) for one container 172.17.0.2 publishing 8080->80,
    # loaded with iptables-restore (iptables-nft) as docker's own iptables calls would.
    iptables-restore <"$here/iptables/docker.rules"
    iptables -I INPUT 1 -i b-fast -p tcp --dport 49152:49215 -j ACCEPT
    collect docker "docker 24's documented DOCKER, DOCKER-USER, DOCKER-ISOLATION-STAGE-1/2 chains \
(filter and nat, one container 172.17.0.2 publishing 8080->80) written from docker's documentation, \
not captured from a running docker (not runnable here), loaded with iptables-nft 1.8.9; \
INPUT policy DROP with 22,16509 on b-lan and 49152:49215 on b-fast"
}

run() {
    ns=fwcap-$1
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    trap 'for pid in $(ip netns pids "$ns"); do kill "$pid" 2>/dev/null || true; done; ip netns del "$ns"' EXIT
    ip netns exec "$ns" unshare --mount --propagation private sh -c "
        set -eu; . '$here/capture-tools.sh'; private; links
        case $1 in
        firewalld*) scenario_firewalld $1 ;;
        ufw*) scenario_ufw $1 ;;
        iptables-legacy) scenario_iptables_legacy ;;
        libvirt-nat) scenario_libvirt_nat ;;
        docker) scenario_docker ;;
        esac"
    trap - EXIT
    for pid in $(ip netns pids "$ns"); do kill "$pid" 2>/dev/null || true; done
    ip netns del "$ns"
}

if [ -z "${CAPTURE_TOOLS_SOURCED:-}" ]; then
    CAPTURE_TOOLS_SOURCED=1
    export CAPTURE_TOOLS_SOURCED
    for name in ${*:-$all}; do run "$name"; echo "captured real/$name.json"; done
fi
