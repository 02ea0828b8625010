#!/bin/sh
# Makes the committed example reports (reports/example-*.json) from real lab runs, the ones the
# writers' tests render and docs/reports.md quotes: the seed (the forum thread) with a test migration,
# the same lab after `migration_host` is set on hostb, and the healthy scenario. The lab is shared
# on this machine: run it as `flock /tmp/migdoctor-lab.lock sh scripts/make-examples.sh`.
# Exit statuses 1 (a check failed) are expected for the seed; the lab is down at the end.
set -eu
cd "$(dirname "$0")/.."
md=.venv/bin/migdoctor
export MIGDOCTOR_INVENTORY=/run/migdoctor-lab/inventory.toml  # as `lab up` says
trap '$md lab down >/dev/null' EXIT
check() { $md check hosta hostb --test-migration --canary-memory 128 --format junit --output-stem "$1" >/dev/null || [ $? -eq 1 ]; }

$md lab up --scenario seed
check reports/example-seed
$md lab exec hostb -- sh -c 'echo "migration_host = \"hostb-fast.lab.test\"" >> /etc/libvirt/qemu.conf'
$md lab reload hostb
check reports/example-seed-fixed
$md lab down
$md lab up --scenario healthy
check reports/example-healthy
rm -f reports/example-*.html reports/example-*.md reports/example-*.xml  # the tests render these
for name in seed seed-fixed healthy; do $md report validate "reports/example-$name.json"; done
