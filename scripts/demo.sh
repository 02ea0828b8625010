#!/bin/sh
# The main job, end to end: set up, bring up the two-hypervisor lab (scenario "seed" unless
# given: the forum thread's fault), check a live migration from hosta to hostb against it and
# run a real test migration of a small canary guest that shows which links carried it.
# Arguments after the scenario go to `migdoctor check` (`sh scripts/demo.sh tls --tls`).
# The lab stays up for you to explore; `.venv/bin/migdoctor lab down` removes every trace of it.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
scenario=${1:-seed}
[ $# -gt 0 ] && shift
.venv/bin/migdoctor lab up --scenario "$scenario"
export MIGDOCTOR_INVENTORY=/run/migdoctor-lab/inventory.toml  # as `lab up` says
status=0
.venv/bin/migdoctor check hosta hostb --test-migration --canary-memory 128 --output "reports/demo-$scenario.json" "$@" || status=$?
.venv/bin/migdoctor report validate "reports/demo-$scenario.json"
echo "exit status $status (0 passed, 1 a check failed, 2 could not run, 3 incomplete: the path could not be verified); lab still up: .venv/bin/migdoctor lab down"
[ "$status" -le 1 ]
