"""One `migdoctor check` run without the CLI around it, for one pair or a whole fleet: collect
each host's facts once (request, collect), decide each destination's intent (intent), plan and
batch the look-ups aimed at peers (lookups), run the active steps and test migrations without
two measuring on one host at once (active, trial), judge every ordered pair and assemble one
report (judge)."""
