"""One `migdoctor check` run without the CLI around it, for one pair or a whole fleet, entered
through run_check (check: an Ask in, the report and its notes out): collect each host's facts
once (request, collect; saved facts: saved), decide each destination's intent (intent), plan and
batch the look-ups aimed at peers (lookups), run the active steps and test migrations without
two measuring on one host at once (active, trial), judge every ordered pair and assemble one
report (judge)."""
