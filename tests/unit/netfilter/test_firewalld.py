"""firewalld's permanent configuration read from its files: the zone a connection lands in after
a reload (a bound source wins over a bound interface, else DefaultZone) and the ports a zone
opens (ports and services, /etc overriding /usr/lib; target ACCEPT opens everything)."""

from migdoctor.netfilter import Packet
from migdoctor.netfilter.firewalld import permanent, runtime_zone

USR, ETC = "/usr/lib/firewalld", "/etc/firewalld"
FILES = {
    f"{ETC}/firewalld.conf": "# Default: public\nDefaultZone=work\n",
    f"{USR}/zones/work.xml": '<zone><service name="ssh"/><port port="49152-49183" protocol="tcp"/></zone>',
    f"{USR}/zones/internal.xml": '<zone><port port="49152-49215" protocol="tcp"/></zone>',
    f"{ETC}/zones/internal.xml": '<zone><interface name="b-fast"/><service name="libvirt"/></zone>',
    f"{USR}/zones/trusted.xml": '<zone target="ACCEPT"><source address="203.0.113.0/24"/></zone>',
    f"{USR}/zones/broken.xml": "<zone><port",
    f"{USR}/services/ssh.xml": '<service><port protocol="tcp" port="22"/></service>',
    f"{USR}/services/libvirt.xml": '<service><port protocol="tcp" port="16509"/></service>',
    f"{USR}/services/tftp.xml": '<service><port protocol="udp" port="49160"/></service>',
}


def test_the_zone_after_a_reload():
    config = permanent(FILES)

    assert config.zone_of("b-fast", "198.51.100.1") == (
        "internal",
        f"b-fast is bound to it in {ETC}/zones/internal.xml",
    )
    assert config.zone_of("b-fast", "203.0.113.9") == (
        "trusted",
        f"source 203.0.113.0/24 is bound to it in {USR}/zones/trusted.xml",
    )
    assert config.zone_of("b-lan", "192.0.2.1")[0] == "work"
    assert "broken" not in config.zones


def test_the_ports_a_zone_leaves_closed():
    config = permanent(FILES)

    assert config.closed("internal", 49152, 49215) == [(49152, 49215)]  # /etc's copy replaces /usr/lib's
    assert config.closed("internal", 16509, 16509) == []
    assert config.closed("work", 49152, 49215) == [(49184, 49215)]
    assert config.closed("work", 22, 22) == []
    assert config.closed("trusted", 1, 65535) == []
    assert config.closed("nosuchzone", 22, 22) == [(22, 22)]


def test_without_firewalld_conf_the_default_zone_is_public():
    assert permanent({}).default_zone == "public"


def test_the_runtime_zone_follows_the_dispatch_chain():
    def rule(*expr):
        return {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_INPUT_ZONES", "expr": list(expr)}}

    ruleset = {
        "nftables": [
            rule(
                {
                    "match": {
                        "op": "==",
                        "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                        "right": {"prefix": {"addr": "203.0.113.0", "len": 24}},
                    }
                },
                {"goto": {"target": "filter_IN_trusted"}},
            ),
            rule(
                {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "b-fast"}},
                {"goto": {"target": "filter_IN_internal"}},
            ),
            rule({"goto": {"target": "filter_IN_public"}}),
        ]
    }

    assert runtime_zone(ruleset, Packet("198.51.100.1", "198.51.100.2", "b-fast", 49152)) == "internal"
    assert runtime_zone(ruleset, Packet("203.0.113.1", "198.51.100.2", "b-fast", 49152)) == "trusted"
    assert runtime_zone(ruleset, Packet("192.0.2.1", "192.0.2.2", "b-lan", 22)) == "public"
    assert runtime_zone({"nftables": []}, Packet("192.0.2.1", "192.0.2.2", "b-lan", 22)) is None
