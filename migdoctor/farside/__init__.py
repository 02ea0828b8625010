"""The far side: what migdoctor runs on a host it reaches, one process per host per run serving
requests over its stdin/stdout. It needs the host's python3 >= 3.9 and its standard library only
(pyroute2 and dnspython travel in the bundle), and writes nothing but what a request asks for.
Everything under this package, and everything it imports, must run on Python 3.9.

To add a far-side command: write a function in commands.py under `@command("name")` (or
`@command("name", streams=True)` for a generator that yields until the `cancelled` event is set),
then call it from the control node with `transport.call("name", ...)` / `transport.stream(...)`.
"""
