"""migdoctor's built-in checks (installed as `migdoctor.checks`), one module per area.

The contract every check keeps, built-in or third-party (tests/unit/checks/test_contract.py holds
every discovered check to it):

- A check is a pure function of the pair (`migdoctor.judging.pair.Pair`: both hosts' facts, their
  labels, the intent, and the records of the active steps: the port probe and the test
  migration) returning an `Outcome`. It never touches a host or the network.
- Every module of this package is found on disk and loaded (pkgutil; modules named `_*` are
  helpers): a new module runs without being listed anywhere. It declares
  `registry = migdoctor.checkapi.Registry(order=N)` (N places its checks in listings and
  reports: the order a migration meets what they check) and its checks with
  `@registry.check(id, title, severity, needs=(...), description=..., rationale=..., fix=...)`:
  a stable dotted id users type (`dns.migration-host-resolves`; the part before the dot is its
  area, for `--only` and `--ignore`), a title, a severity (critical, high, medium, low), the facts
  it needs (`"dst.config.qemu_conf"`), what it verifies said as when it fails (`description`,
  docs/checks.md's "Fails when"), why that matters (`rationale`: the failure it prevents, with its public
  source) and what is usually changed (`fix`). When a needed fact is missing the finding is SKIP
  with the reason the collector recorded, never FAIL; a check may also raise `Skip` itself. A
  check whose answer depends on the destination's facts and the intent alone declares
  `scope="destination"`: it then sees no source (its label is "the source", its facts empty:
  reading them is an ERROR), needs no `src.` fact, and a fleet judges it once per destination. A
  check of one running guest and one destination declares `scope="guest"` and takes a
  `migdoctor.judging.guest.GuestCase` (the guest's entry, both hosts' facts, the pair's look-ups
  for it); its needs may also name `guest.KEY` and `lookups.KEY`, and a pair run leaves it to
  `migdoctor.engine.judge_guest`. The checks reference docs/checks.md is
  `migdoctor checks --format markdown`;
  tests/unit/report/test_catalog.py fails when they differ.
- A failing or warning outcome carries evidence (actual and expected value per host) and a
  remediation naming the host, the file and the exact line to set.
- The metadata is held to this contract when the module is loaded (id pattern, severity, needs
  naming a part of the facts, description, rationale and fix one paragraph of printable text;
  required of built-in checks, optional for third-party ones): a module that breaks it, or
  raises anything at import (sys.exit included), fails discovery with one line naming its file,
  before any host is contacted.
- Checks run sandboxed (migdoctor.sandbox): they get a read-only view of the facts (migdoctor.frozen; copy what you
  change), run in a forked worker with a time budget (10 s), and anything they raise (SystemExit
  included), a return value that is not an Outcome, evidence that is not JSON, overrunning the
  budget or ending the worker becomes an ERROR finding naming the check; the run goes on. What a
  check prints goes nowhere.

Third-party checks: a module like these, registered under the entry-point group
`migdoctor.checks` (`site = my_package.checks` in its distribution's entry points), or dropped
into a directory given with `--checks-dir`. A drop-in file is imported only in forked workers,
never in the run's own process, and its checks run in a worker of their own: whatever it does at
import (ends its process, prints, patches migdoctor) cannot end the run, reach stdout or change
another check's verdict; ending its process at import fails discovery naming the file.
"""
