# Copyright: (c) migdoctor contributors
# MIT License (see LICENSE)
"""The documentation of migdoctor.fleet.peer_lookup_facts; the work is done by its action plugin
(plugins/action/peer_lookup_facts.py) on the control node."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: peer_lookup_facts
short_description: Add to a host's migdoctor facts record the look-ups aimed at its peers
description:
  - >-
    C(migdoctor check)'s second round for one host, once every host of the play has its record
    from M(migdoctor.fleet.host_facts) (the fact C(migdoctor), in C(hostvars)): what this host must
    look up about each of its peers, planned on the control node from every peer's record exactly
    as C(migdoctor check --all) over these hosts plans it (each peer's advertised migration name
    resolved, the routes to and the PTR names of its migration addresses, the route back to each
    peer), looked up in one look-ups-only call on the host and added to the host's record, which
    is returned as the fact C(migdoctor).
  - >-
    The migration network is each destination's C(migdoctor_migration_network), else inferred from
    its record, as C(migdoctor check) does. The record's look-ups become these: look-ups it held
    from M(migdoctor.fleet.host_facts) options are replaced.
  - >-
    A peer with no usable record (it was not reached) gets no look-ups and a warning; the host
    without one fails, naming the task that comes first. Without look-ups to make (a play of one
    host) the record is returned as it is, and the host is not called.
  - >-
    Runs on the control node, which must have migdoctor installed in the Python that runs Ansible
    (C(pip install 'migdoctor[ansible]')); the host needs nothing but python3 3.9 or newer.
version_added: "0.2.0"
options:
  peers:
    description:
      - The inventory hostnames of the host's peers, the play's hosts say (C(ansible_play_hosts)).
      - The host itself may be among them.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    description: Can run in check mode and return the same record.
    support: full
    details: The host is only read.
  become:
    description: The look-ups run under the task's become.
    support: full
  facts:
    description: Returns the fact C(migdoctor).
    support: full
seealso:
  - module: migdoctor.fleet.host_facts
  - module: migdoctor.fleet.facts_file
author:
  - migdoctor contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Collect every hypervisor's facts record (the fact migdoctor)
  migdoctor.fleet.host_facts:

- name: Then, on every host, look up what its peers advertise
  migdoctor.fleet.peer_lookup_facts:
    peers: "{{ ansible_play_hosts }}"
"""

RETURN = r"""
ansible_facts:
  description: The facts.
  returned: always
  type: dict
  contains:
    migdoctor:
      description: The host's migdoctor facts record with the look-ups aimed at its peers.
      returned: always
      type: dict
"""
