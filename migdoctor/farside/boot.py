"""Second stage of the far side, sent by the control node after python3 started: import the
bundle (migdoctor's far-side code, pyroute2, dnspython) from memory and serve requests. Nothing is
written on the host. Runs on the host's python3 >= 3.9 with its standard library only."""

import importlib.util
import io
import marshal
import sys
import zipfile

ORIGIN = "<migdoctor-bundle>"
# Packages set up without running their __init__: pyroute2's re-exports every socket class it has
# (NDB and its sqlite, IPDB, conntrack, nl80211 ...), a third of its import time on each host, and
# pyroute2.ethtool's its netlink Ethtool (generic netlink families the far side does not use). The
# far side imports what it uses from the defining modules, which load as usual.
HOLLOW = ("pyroute2", "pyroute2.ethtool")


class BundleImporter:
    """Modules from a zip held in memory: source (.py), or bytecode (.pyc) when the control node
    compiled it for exactly this interpreter. A meta path finder and loader by importlib's protocol,
    not by importlib.abc's classes: importing those costs each host 15-20 ms."""

    def __init__(self, blob: bytes) -> None:
        self.archive = zipfile.ZipFile(io.BytesIO(blob))
        self.names = set(self.archive.namelist())

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001, ANN201 - importlib's protocol
        base = fullname.replace(".", "/")
        for stem, package in ((base + "/__init__", True), (base, False)):
            for suffix in (".pyc", ".py"):
                if stem + suffix in self.names:
                    origin = f"{ORIGIN}/{stem}.py"
                    spec = importlib.util.spec_from_loader(fullname, self, origin=origin, is_package=package)
                    if spec is not None:
                        spec.loader_state = stem + suffix
                    return spec
        return None

    def create_module(self, spec):  # noqa: ANN001, ANN201
        return None

    def exec_module(self, module) -> None:  # noqa: ANN001
        module.__file__ = module.__spec__.origin
        if module.__name__ in HOLLOW:
            return
        member = module.__spec__.loader_state
        data = self.archive.read(member)
        code = marshal.loads(data[16:]) if member.endswith(".pyc") else compile(data, module.__spec__.origin, "exec")
        exec(code, module.__dict__)


def read_block(stream) -> bytes:  # noqa: ANN001
    """A block the control node sends: its length on one line, then the bytes."""
    return stream.read(int(stream.readline()))


def main() -> None:
    sys.meta_path.insert(0, BundleImporter(read_block(sys.stdin.buffer)))
    from migdoctor.farside.server import ANSWER_ALL, serve

    serve(answer_all=ANSWER_ALL in sys.argv[1:])  # `python3 -c FIRST_STAGE --answer-all`


if __name__ == "__main__":  # exec'd by the first stage, which runs as `python3 -c`
    main()
