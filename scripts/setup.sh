#!/bin/sh
# Idempotent set-up on Debian 12 as root: the system packages the lab and libvirt-python need
# (the firewall tools its scenarios set hosts up with among them: firewalld and its D-Bus, ufw,
# iptables-legacy; and Debian's chromium, which the HTML report's tests open it in, driven by playwright),
# the users libvirtd insists on, and a virtualenv at .venv with migdoctor installed (editable), with
# ansible-core for Ansible inventories and the migdoctor.fleet collection.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 dnsmasq-base
nftables tini iproute2 procps openssh-server openssh-client netcat-openbsd sudo
firewalld ufw iptables dbus
libvirt-dev pkg-config python3-dev python3-venv gcc
chromium fonts-dejavu-core"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# libvirtd refuses to start unless these exist, even with user = "root" (LAB-FACTS.md).
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd --system -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu

if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv .venv
fi
stamp=.venv/.migdoctor-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: installing migdoctor into .venv"
    # Retries and resumed downloads: a CI machine's link to PyPI may drop a large wheel midway.
    .venv/bin/pip install -q --retries 10 --timeout 60 --upgrade pip
    .venv/bin/pip install -q --retries 10 --timeout 60 --resume-retries 10 -e '.[dev,ansible]'
    touch "$stamp"
fi
