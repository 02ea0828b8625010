#!/bin/sh
# Runs the whole test suite, lab tests included (they bring up the two-hypervisor lab; root, Linux).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
.venv/bin/ruff check migdoctor checks tests bench ansible_collections
.venv/bin/mypy migdoctor checks ansible_collections/migdoctor/fleet/plugins/action
exec .venv/bin/pytest "$@"
