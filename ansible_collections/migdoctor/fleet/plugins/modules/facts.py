# Copyright: (c) migdoctor contributors
# MIT License (see the repository's pyproject.toml)
"""The documentation of migdoctor.fleet.facts; the work is done by its action plugin
(plugins/action/facts.py) on the control node."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: facts
short_description: Collect migdoctor's facts record of a hypervisor
description:
  - >-
    Collects what decides which network a live migration to or from this host takes (links and
    their stacks, routes, name resolution as the host sees it, listeners, the firewall ruleset,
    libvirt, QEMU and Xen configuration, TLS certificates) as one migdoctor facts record, the same
    record C(migdoctor facts HOST --json) prints; it validates against migdoctor's facts schema.
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
    The facts record is returned as the fact C(migdoctor) and, with O(dest), saved on the control node.
  - >-
    Without become, what the kernel hides from other users (the firewall ruleset, other users'
    sockets) is a named gap in the record.
version_added: "0.1.0"
options:
  dest:
    description:
      - >-
        A directory on the control node; the record is saved there as C(INVENTORY_HOSTNAME.json),
        written atomically. Created when missing. Not written in check mode.
    type: path
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
  peers:
    description:
      - >-
        The inventory hostnames of the host's peers (the play's hosts, say C(ansible_play_hosts)): instead
        of collecting the record, add to the host's record from an earlier task of this module (its fact
        C(migdoctor)) the look-ups that C(migdoctor check) makes on it about its peers, planned from every
        peer's record from that task (in C(hostvars)) as C(migdoctor check --all) over these hosts plans
        them: each peer's advertised migration name resolved, the routes to and the PTR names of its
        migration addresses. The migration network is each destination's C(migdoctor_migration_network),
        else inferred from its record, as C(check) does. Costs one look-ups-only call on the host.
      - >-
        A peer with no such record (it was not reached) gets no look-ups; the host without one fails.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    details: The host is only read; in check mode the file is not written.
  become:
    support: full
    details: The collecting Python runs under the task's become (needed for the firewall ruleset).
notes:
  - >-
    Reaches the host through the task's connection (ssh or local), so ansible_user, ansible_port,
    the ssh arguments and become apply as for any task. Host variables C(migdoctor_<key>), for the
    keys of a migdoctor inventory entry, are read as C(migdoctor facts HOST -i INVENTORY) reads them.
author:
  - migdoctor contributors
"""

EXAMPLES = r"""
- name: Collect every hypervisor's facts record (the fact migdoctor)
  migdoctor.fleet.facts:

- name: Then, on every host, look up what its peers advertise, and save it for `check --facts-dir facts/ --all`
  migdoctor.fleet.facts:
    peers: "{{ ansible_play_hosts }}"
    dest: facts/

- name: Collect, and resolve the migration name of a peer as this host sees it
  migdoctor.fleet.facts:
    resolve:
      - kvm8-mig.example.org
  register: collected
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
dest:
  description: The file the record was saved to.
  returned: when O(dest) is given
  type: str
  sample: facts/kvm7.json
"""
