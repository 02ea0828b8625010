"""The lab is what it claims to be, checked with raw commands inside the hosts."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migdoctor import lab as lab_api
from migdoctor.actions import canary
from migdoctor.farside.canary import MIB, write_payload
from migdoctor.lab import layout, ssh, users

pytestmark = pytest.mark.lab

ADDRESSES = {
    "hosta": {"a-lan": "192.0.2.1", "a-fast": "198.51.100.1", "a-mgmt": "203.0.113.1"},
    "hostb": {"b-lan": "192.0.2.2", "b-fast": "198.51.100.2", "b-mgmt": "203.0.113.2"},
}


@pytest.fixture
def seed(lab_scenario):
    return lab_scenario("seed")


@pytest.mark.parametrize("host", lab_api.HOSTS)
def test_each_host_has_its_own_fqdn_hostname(seed, host):
    assert seed.run(host, "hostname").stdout.strip() == f"{host}.lab.test"
    assert seed.run(host, "cat", "/etc/hostname").stdout.strip() == f"{host}.lab.test"


@pytest.mark.parametrize("host", lab_api.HOSTS)
def test_addresses_sit_on_the_right_links_and_nothing_routes_out(seed, host):
    links = json.loads(seed.run(host, "ip", "-j", "addr", "show").stdout)
    ipv4 = {
        link["ifname"]: [a["local"] + "/" + str(a["prefixlen"]) for a in link["addr_info"] if a["family"] == "inet"]
        for link in links
    }
    for ifname, ip in ADDRESSES[host].items():
        assert ipv4[ifname] == [f"{ip}/24"]
    assert set(ipv4) == {"lo", *ADDRESSES[host]}
    assert json.loads(seed.run(host, "ip", "-j", "route", "show", "default").stdout) == []


@pytest.mark.parametrize("host", lab_api.HOSTS)
def test_lan_and_fast_links_are_shaped_with_tbf(seed, host):
    letter = host[-1]
    for ifname, bytes_per_s in ((f"{letter}-lan", 100_000_000 // 8), (f"{letter}-fast", 1_000_000_000 // 8)):
        (qdisc,) = json.loads(seed.run(host, "tc", "-j", "qdisc", "show", "dev", ifname).stdout)
        assert qdisc["kind"] == "tbf"
        assert qdisc["options"]["rate"] == bytes_per_s


def test_dns_answers_forward_and_reverse_authoritatively_inside_a_host(seed):
    script = """
import json, dns.flags, dns.resolver, dns.reversename
r = dns.resolver.Resolver()
out = {"nameservers": [str(n) for n in r.nameservers]}
for name in ("hostb.lab.test", "hostb-fast.lab.test", "hosta-mgmt.lab.test"):
    out[name] = [a.address for a in r.resolve(name, "A")]
for ip in ("192.0.2.2", "198.51.100.1", "203.0.113.2"):
    answer = r.resolve(dns.reversename.from_address(ip), "PTR")
    out[ip] = [str(p) for p in answer]
    out["aa"] = bool(answer.response.flags & dns.flags.AA)
print(json.dumps(out))
"""
    out = json.loads(seed.run("hosta", sys.executable, "-c", script).stdout)
    assert out["nameservers"] == ["203.0.113.53"]
    assert out["hostb.lab.test"] == ["192.0.2.2"]
    assert out["hostb-fast.lab.test"] == ["198.51.100.2"]
    assert out["hosta-mgmt.lab.test"] == ["203.0.113.1"]
    assert out["192.0.2.2"] == ["hostb.lab.test."]
    assert out["198.51.100.1"] == ["hosta-fast.lab.test."]
    assert out["203.0.113.2"] == ["hostb-mgmt.lab.test."]
    assert out["aa"] is True
    getent = seed.run("hostb", "getent", "hosts", "hosta.lab.test").stdout.split()
    assert getent[:2] == ["192.0.2.1", "hosta.lab.test"]


@pytest.mark.parametrize("host", lab_api.HOSTS)
def test_ssh_with_the_generated_config_reaches_each_host(seed, host):
    for alias in (host, f"{host}.lab.test"):
        done = subprocess.run(
            ["ssh", "-F", str(ssh.SSH_CONFIG), alias, "hostname"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert done.stdout.strip() == f"{host}.lab.test"


@pytest.mark.parametrize("host", lab_api.HOSTS)
def test_virsh_over_qemu_ssh_with_the_inventory_uri(seed, host):
    entry = seed.inventory()["hosts"][host]
    for command in ("version", "hostname"):
        done = subprocess.run(
            ["virsh", "-c", entry["libvirt_uri"], command], capture_output=True, text=True, timeout=30, check=True
        )
        assert done.returncode == 0
    assert done.stdout.strip() == f"{host}.lab.test"


def test_inventory_has_the_agreed_shape(seed):
    inv = seed.inventory()
    assert inv["defaults"] == {"migration_network": "198.51.100.0/24"}
    assert set(inv["hosts"]) == set(lab_api.HOSTS)
    for host, entry in inv["hosts"].items():
        assert entry == {
            "transport": f"ssh://root@{host}",
            "ssh_config": "/run/migdoctor-lab/ssh_config",
            "libvirt_uri": f"qemu+ssh://root@{host}/system?command=/run/migdoctor-lab/ssh",
        }


@pytest.mark.parametrize("host", lab_api.HOSTS)
def test_libvirtd_listens_on_tcp_16509(seed, host):
    listening = seed.run(host, "ss", "-Hltn", "sport = :16509").stdout
    assert "0.0.0.0:16509" in listening
    peer = "hostb" if host == "hosta" else "hosta"
    over_lan = seed.run(host, "virsh", "-c", f"qemu+tcp://{peer}.lab.test/system", "hostname")
    assert over_lan.stdout.strip() == f"{peer}.lab.test"


@pytest.mark.parametrize("host", lab_api.HOSTS)
def test_each_host_has_its_own_config_and_firewall(seed, host):
    qemu_conf = seed.run(host, "cat", "/etc/libvirt/qemu.conf").stdout
    assert "migration_port_min = 49152" in qemu_conf
    assert "migration_port_max = 49215" in qemu_conf
    assert "migration_host" not in qemu_conf  # the forum thread's situation
    ruleset = json.loads(seed.run(host, "nft", "-j", "list", "ruleset").stdout)["nftables"]
    chains = [c["chain"] for c in ruleset if "chain" in c]
    assert [(c["family"], c["table"], c["hook"], c["policy"]) for c in chains] == [("inet", "filter", "input", "drop")]
    listing = seed.run(host, "nft", "list", "ruleset").stdout
    assert f'"{host[-1]}-lan"' in listing and "49152-49215" in listing


def test_seed_migration_silently_takes_the_lan(seed):
    """The forum thread, for real: no migration_host, so the stream follows DNS to the LAN."""
    import libvirt

    src, dst = seed.libvirt("hosta"), seed.libvirt("hostb")
    try:
        payload = write_payload(layout.STATE_DIR / "canary-payload.bin", canary.PAYLOAD_MIB)
        dom = canary.start(src, payload)
        lan_before, fast_before = seed.tx_bytes("hosta", "a-lan"), seed.tx_bytes("hosta", "a-fast")
        started = time.monotonic()
        dom.migrate(dst, libvirt.VIR_MIGRATE_LIVE, None, None, 0)
        wall = time.monotonic() - started
        lan = seed.tx_bytes("hosta", "a-lan") - lan_before
        fast = seed.tx_bytes("hosta", "a-fast") - fast_before
        print(f"seed migration: {wall:.2f} s, LAN tx {lan} bytes, fast tx {fast} bytes")
        assert lan >= canary.PAYLOAD_MIB * MIB
        assert fast < 100_000
        assert [d.name() for d in dst.listAllDomains()] == [canary.NAME]
        assert src.listAllDomains() == []
    finally:
        canary.remove(src)
        canary.remove(dst)
    assert src.listAllDomains() == [] and dst.listAllDomains() == []
    assert src.listDefinedDomains() == [] and dst.listDefinedDomains() == []


def test_reload_restarts_libvirtd_with_the_edited_config(seed):
    conf = layout.LAB_HOSTS["hostb"].dir / "etc-libvirt" / "libvirtd.conf"
    original = conf.read_text()
    before = lab_api.status()["hosts"]["hostb"]["pids"]["libvirtd"]
    try:
        conf.write_text(original + "max_clients = 4321\n")
        done = seed.cli("reload", "hostb")
        assert done.returncode == 0, done.stderr
        after = lab_api.status()["hosts"]["hostb"]
        assert after["libvirtd_running"] and after["pids"]["libvirtd"] != before
        clients = seed.run("hostb", "virt-admin", "srv-clients-info", "libvirtd").stdout
        assert re.search(r"nclients_max\s*:\s*4321\b", clients)
    finally:
        conf.write_text(original)
        lab_api.reload("hostb")


def test_healthy_firewall_admits_migration_ports_only_on_the_fast_link(lab_scenario):
    healthy = lab_scenario("healthy")
    assert 'migration_host = "hostb-fast.lab.test"' in healthy.run("hostb", "cat", "/etc/libvirt/qemu.conf").stdout
    listener = subprocess.Popen(
        [*lab_api.exec_prefix("hostb"), "nc", "-lk", "49160"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def reach(ip: str) -> subprocess.CompletedProcess[str]:
        return healthy.run("hosta", "nc", "-z", "-w", "5", ip, "49160", check=False)

    try:
        deadline = time.monotonic() + 5  # until the listener is up
        while reach("198.51.100.2").returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reach("198.51.100.2").returncode == 0
        started = time.monotonic()
        assert reach("192.0.2.2").returncode != 0
        assert time.monotonic() - started < 2  # rejected at once, not dropped into a timeout
    finally:
        listener.kill()
        listener.wait()


def test_cli_lifecycle_is_idempotent_and_down_leaves_nothing(lab_scenario):
    session = lab_scenario("seed")
    recorded = lab_api.status()
    again = session.cli("up")
    assert again.returncode == 0 and "already up" in again.stdout
    assert f"export MIGDOCTOR_INVENTORY={recorded['inventory']}\n" in again.stdout  # how migdoctor finds the lab
    other = session.cli("up", "--scenario", "healthy")
    assert other.returncode == 1
    assert other.stderr.count("\n") == 1 and "lab down" in other.stderr
    assert session.cli("status").returncode == 0
    assert session.cli("exec", "hosta", "--", "sh", "-c", "exit 7").returncode == 7

    first = session.cli("down")
    session.scenario = None
    assert first.returncode == 0 and "lab down" in first.stdout
    second = session.cli("down")
    assert second.returncode == 0 and "nothing to do" in second.stdout
    assert session.cli("status").returncode == 1

    pids = [p for h in recorded["hosts"].values() for p in h["pids"].values() if p]
    pids.append(recorded["dns"]["pid"])
    assert [p for p in pids if _running(p)] == []
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "mdlab" not in namespaces
    assert not any(Path(f"/etc/netns/{ns}").exists() for ns in layout.namespaces())
    assert not lab_api.STATE_DIR.exists()
    assert not Path(f"/sys/class/net/{layout.BRIDGE}").exists()
    assert not any(users.exists(name) for name in users.USERS) and not users.SUDOERS.exists()

    lab_api.up("seed")
    lab_api.up("seed")
    assert lab_api.is_up()
    lab_api.down()
    lab_api.down()
    assert not lab_api.exists()
    session.use("seed")  # leave the session's lab as later test files expect it


def _running(pid: int) -> bool:
    """Alive and not a zombie (the CLI's daemons are reaped by PID 1, possibly late)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.parametrize(
    ("scenario", "down"), [("seed", set()), ("fast-link-down", {"a-fast", "b-fast"})], ids=["seed", "fast-link-down"]
)
def test_up_returns_only_when_every_link_has_carrier_and_dns_answers_in_each_host(lab, scenario, down):
    """Read at once after a fresh `up`: a veth end shows NO-CARRIER for a moment after it is set
    up, and a facts record taken in that moment would call the link DOWN."""
    lab.down()
    lab.use(scenario)
    for host in lab_api.HOSTS:
        links = json.loads(lab.run(host, "ip", "-j", "link", "show").stdout)
        states = {link["ifname"]: link["operstate"] for link in links if link["ifname"] != "lo"}
        assert {name for name, state in states.items() if state == "UP"} == set(ADDRESSES[host]) - down, states
        answer = lab.run(host, "getent", "ahostsv4", "ns.lab.test", check=False)
        assert answer.returncode == 0 and answer.stdout.split()[0] == "203.0.113.53", answer
    root = json.loads(
        subprocess.run(
            ["ip", "-j", "link", "show", "master", layout.BRIDGE], capture_output=True, text=True, check=True
        ).stdout
    )
    assert {link["ifname"]: link["operstate"] for link in root} == dict.fromkeys(
        [layout.DNS_PEER, *(h.mgmt_peer for h in layout.LAB_HOSTS.values())], "UP"
    )
