"""`python -m migdoctor.farside`: the far side served from an installed migdoctor (local and lab
hosts, or an inventory's remote_command)."""

from migdoctor.farside.server import serve

serve()
