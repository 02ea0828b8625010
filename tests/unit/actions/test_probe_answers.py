"""The port probe's answers come from far hosts: anything that is not what migdoctor's agent sends
(garbage, a list, missing fields) is the probe's error naming both hosts, never a crash."""

import pytest

from migdoctor.actions import probe
from migdoctor.transports import Host

SERVE_READY = 'echo \'{"name": "hostb-fast", "port": 49152}\'; echo \'{"bytes": 5}\'; cat >/dev/null'


@pytest.mark.parametrize(
    ("serve", "send"),
    [
        (SERVE_READY, "echo 'not json'"),
        (SERVE_READY, "echo '[1, 2]'"),
        (SERVE_READY, "echo '{\"bytes\": 1}'"),
        ("echo '[\"port\"]'; cat >/dev/null", "true"),
    ],
    ids=["sender-not-json", "sender-list", "sender-missing-fields", "listener-list"],
)
def test_probe_answer_that_is_not_the_agents_is_the_probes_error(monkeypatch, serve, send):
    scripts = {"probe-serve": serve, "probe-send": send}
    monkeypatch.setattr(probe, "command_argv", lambda host, argv: ["sh", "-c", scripts[argv[0]]])

    result = probe.run_probe(Host("hosta", "ssh", "hosta"), Host("hostb", "ssh", "hostb"))

    assert result["error"] and "\n" not in result["error"], result
