"""migdoctor's built-in checks (installed as `migdoctor.checks`).

The contract every check keeps, built-in or third-party (entry-point group `migdoctor.checks`):

- A check is a pure function of (source facts, destination facts, intent) returning one finding.
  It never touches a host or the network; active steps (port probe, test migration) are done
  beforehand and arrive as facts.
- It declares a stable dotted id users type (`dns.migration-host-resolves`; the part before the
  dot is its area), a title, a severity, and the facts it needs. When a needed fact is missing,
  the finding is SKIP with the reason from the facts' `missing` list, never FAIL.
- A failing finding carries evidence (actual and expected value per host) and a remediation
  naming the host, the file and the exact line to set.
- A check that raises becomes an ERROR finding with the message; the run goes on.

The checks themselves arrive with the pair check (`migdoctor check`).
"""
