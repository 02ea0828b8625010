"""The port probe's answers come from far hosts: anything that is not what migdoctor's far side
sends (a list, missing fields) is the probe's error naming both hosts, never a crash."""

from contextlib import contextmanager

import pytest

from migdoctor.actions import probe
from migdoctor.transports import TransportError

READY = [{"name": "hostb-fast", "port": 49152}, {"bytes": 5}]
DST_FACTS = {"identity": {"fqdn": "hostb.lab.test", "hypervisor": {}}, "config": {"qemu_conf": {}}}


class FarSide:
    """A far side whose probe-serve stream yields SERVED and whose probe-send answers SENT."""

    def __init__(self, label, served=(), sent=None):
        self.label, self.served, self.sent = label, list(served), sent
        self.calls = []

    def call(self, name, /, **args):
        self.calls.append((name, args))
        if isinstance(self.sent, Exception):
            raise self.sent
        return self.sent

    @contextmanager
    def stream(self, name, /, **args):
        answers = iter(self.served)

        class Stream:
            def next(self, timeout):
                return next(answers, None)

        yield Stream()


@pytest.mark.parametrize(
    ("served", "sent"),
    [
        (READY, TransportError("hosta: probe-send: the far side's answer is not JSON")),
        (READY, [1, 2]),
        (READY, {"bytes": 1}),
        ([["port"]], None),
    ],
    ids=["sender-not-json", "sender-list", "sender-missing-fields", "listener-list"],
)
def test_probe_answer_that_is_not_the_agents_is_the_probes_error(served, sent):
    result = probe.run_probe(FarSide("hosta", sent=sent), FarSide("hostb", served=served), DST_FACTS)

    assert result["error"] and "\n" not in result["error"], result


def test_the_sender_tries_the_last_port_the_listener_holds_and_both_errors_are_kept():
    refused = "ConnectionRefusedError: Connection refused"
    sender = FarSide("hosta", sent={"error": refused, "last_error": refused})
    listener = FarSide("hostb", served=[{"bind": "198.51.100.2", "port": 49152, "last_port": 49215}])

    result = probe.run_probe(sender, listener, DST_FACTS)

    asked = {"name": "hostb.lab.test", "port": 49152, "last_port": 49215, "measure": False}
    assert sender.calls == [("probe-send", asked)]
    assert (result["port"], result["error"], result["last_port"], result["last_error"]) == (
        49152,
        refused,
        49215,
        refused,
    )
