# Copyright: (c) migdoctor contributors
# MIT License (see LICENSE)
"""The documentation of migdoctor.fleet.host_facts; the work is done by its action plugin
(plugins/action/host_facts.py) on the control node."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_facts
short_description: Collect migdoctor's facts record of a hypervisor
description:
  - >-
    Collects what decides which network a live migration to or from this host takes (links and
    their stacks, routes, name resolution as the host sees it, listeners, the firewall ruleset,
    libvirt, QEMU and Xen configuration, TLS certificates) as one migdoctor facts record, the same
    record C(migdoctor facts HOST --json) prints, and returns it as the fact C(migdoctor). The
    record is admitted by migdoctor's facts schema before it is returned.
  - >-
    Runs on the control node, which must have migdoctor installed in the Python that runs Ansible
    (C(pip install 'migdoctor[ansible]')). The host needs nothing but python3 3.9 or newer with its
    standard library: migdoctor's collecting code is sent over the task's connection and imported
    from memory; nothing is written on the host.
  - >-
    What only libvirt knows (the name it offers for incoming migrations, libvirt and QEMU versions,
    KVM, the domains) is asked from the control node through the host's libvirt URI, the variable
    C(migdoctor_libvirt_uri), else C(qemu+ssh://[ansible_user@]ansible_host[:ansible_port]/system).
    A URI that cannot be opened is a named gap in the record, not a failure.
  - >-
    Without become, what the kernel hides from other users (the firewall ruleset, other users'
    sockets) is a named gap in the record.
  - >-
    The look-ups C(migdoctor check) makes on a host about its peers are added by
    M(migdoctor.fleet.peer_lookup_facts); M(migdoctor.fleet.facts_file) saves the record for
    C(migdoctor check --facts-dir).
version_added: "0.2.0"
options:
  route_to:
    description: Also look up the route the host would take to each of these IP addresses.
    type: list
    elements: str
    default: []
  resolve:
    description: Also resolve each of these names as the host sees it (getaddrinfo as QEMU calls it, DNS alone).
    type: list
    elements: str
    default: []
  reverse:
    description: Also look up the PTR names of each of these IP addresses as the host sees them.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    description: Can run in check mode and return the same record.
    support: full
    details: The host is only read.
  become:
    description: The collecting Python runs under the task's become.
    support: full
    details: Needed for the firewall ruleset and other users' sockets.
  facts:
    description: Returns the fact C(migdoctor).
    support: full
notes:
  - >-
    Reaches the host through the task's connection (ssh or local), so ansible_user, ansible_port,
    the ssh arguments and become apply as for any task. Host variables C(migdoctor_<key>), for the
    keys of a migdoctor inventory entry, are read as C(migdoctor facts HOST -i INVENTORY) reads them.
seealso:
  - module: migdoctor.fleet.peer_lookup_facts
  - module: migdoctor.fleet.facts_file
author:
  - migdoctor contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Collect every hypervisor's facts record (the fact migdoctor)
  migdoctor.fleet.host_facts:

- name: Collect, and resolve the migration name of a peer as this host sees it
  migdoctor.fleet.host_facts:
    resolve:
      - kvm8-mig.example.org
  become: true
"""

RETURN = r"""
ansible_facts:
  description: The facts.
  returned: always
  type: dict
  contains:
    migdoctor:
      description: The host's migdoctor facts record (schema migdoctor/schemas/facts.schema.json).
      returned: always
      type: dict
"""
