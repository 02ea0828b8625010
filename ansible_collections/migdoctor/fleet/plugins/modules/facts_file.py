# Copyright: (c) migdoctor contributors
# MIT License (see LICENSE)
"""The documentation of migdoctor.fleet.facts_file; the work is done by its action plugin
(plugins/action/facts_file.py) on the control node."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: facts_file
short_description: Save a host's migdoctor facts record on the control node
description:
  - >-
    Saves the record as O(dest)/C(INVENTORY_HOSTNAME.json) on the control node, exactly as
    C(migdoctor facts HOST --json) prints it, written atomically, for
    C(migdoctor check --facts-dir DEST). The directory is created when missing.
  - >-
    The record is admitted by migdoctor's facts schema first; one that is not a facts record fails
    the task, naming what is wrong. Changed when the file did not hold this record.
  - >-
    Runs on the control node, which must have migdoctor installed in the Python that runs Ansible
    (C(pip install 'migdoctor[ansible]')); nothing is run on the host.
version_added: "0.2.0"
options:
  record:
    description:
      - The host's facts record, its fact C(migdoctor) from M(migdoctor.fleet.host_facts) and
        M(migdoctor.fleet.peer_lookup_facts).
    type: dict
    required: true
  dest:
    description: The directory on the control node.
    type: path
    required: true
attributes:
  check_mode:
    description: Can run in check mode and report whether the file would change.
    support: full
    details: In check mode the file is not written.
  diff_mode:
    description: Would show the difference.
    support: none
author:
  - migdoctor contributors (!UNKNOWN)
seealso:
  - module: migdoctor.fleet.host_facts
  - module: migdoctor.fleet.peer_lookup_facts
"""

EXAMPLES = r"""
- name: Save each host's record as facts/HOST.json, for `migdoctor check --facts-dir facts/`
  migdoctor.fleet.facts_file:
    record: "{{ ansible_facts.migdoctor }}"
    dest: facts/
"""

RETURN = r"""
dest:
  description: The file the record was saved to.
  returned: always
  type: str
  sample: facts/kvm7.json
"""
