"""Far sides that these tests run on this machine make real look-ups: those run in a network
namespace of their own, loopback up, so no DNS query leaves the machine (tests reach loopback and
the lab's namespaces only)."""

from __future__ import annotations

import pytest

OFFLINE = ["unshare", "--net", "/bin/sh", "-c", 'ip link set lo up && exec "$0" "$@"']


@pytest.fixture
def offline() -> list[str]:
    """A command prefix: what follows runs with loopback as its only network."""
    return list(OFFLINE)
