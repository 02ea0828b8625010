"""A host's far side that answers what the control node cannot read (JSON nested thousands deep):
the call fails at once naming the host, as a host that cannot be reached does, instead of a dead
reader thread and "no answer" two minutes later."""

import sys

import pytest

from migdoctor.transports.errors import TransportError
from migdoctor.transports.session import FarSide

# Says ready as migdoctor's far side does, then answers the first request with a result nested
# 5,000 deep, and waits for its stdin to close.
DEEP_ANSWER = """
import json, sys
print(json.dumps({"ready": {"pid": 1}}), flush=True)
request = json.loads(sys.stdin.readline())
sys.stdout.write('{"id": %d, "result": %s}\\n' % (request["id"], "[" * 5000 + "]" * 5000))
sys.stdout.flush()
sys.stdin.read()
"""


def test_an_answer_nested_thousands_deep_ends_the_far_side_naming_the_host() -> None:
    far = FarSide("kvm1", [sys.executable, "-c", DEEP_ANSWER], lambda status, stderr: f"kvm1: ended ({status})")
    try:
        with pytest.raises(TransportError) as caught:
            far.call("facts")
    finally:
        far.close()

    assert str(caught.value).startswith("kvm1: the far side's answer is not JSON migdoctor reads (maximum recursion")
    assert "\n" not in str(caught.value)
