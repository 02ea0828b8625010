#!/bin/sh
# Idempotent set-up on Debian 12 as root: the system packages the lab and libvirt-python need
# (the firewall tools its scenarios set hosts up with among them: firewalld and its D-Bus, ufw,
# iptables-legacy; and Debian's chromium, which the HTML report's tests open it in, driven by playwright),
# the users libvirtd insists on, and a virtualenv at .venv with migdoctor installed (editable), with
# ansible-core for Ansible inventories and the migdoctor.fleet collection, and the virtualenvs of
# ansible-test's sanity tests, which the collection's tests run.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 dnsmasq-base
nftables tini iproute2 procps openssh-server openssh-client netcat-openbsd sudo
firewalld ufw iptables dbus
libvirt-dev pkg-config python3-dev python3-venv gcc binutils
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

# libvirtd refuses to start unless these exist, even with user = "root".
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

# ansible-test runs each sanity test in a virtualenv of its own with the tools it pins, cached under
# ~/.ansible/test: made here (pip from PyPI: scripts/ansible_test_pip.py), from a copy of the
# collection so that ansible-test's tests/output is not left in the repository. Quick once made.
python_version=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
.venv/bin/python scripts/ansible_test_pip.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ansible_collections/migdoctor"
cp -r ansible_collections/migdoctor/fleet "$work/ansible_collections/migdoctor/"
(cd "$work/ansible_collections/migdoctor/fleet" && PATH="$OLDPWD/.venv/bin:$PATH" \
    ansible-test sanity --prime-venvs --local --python "$python_version" >/dev/null)
