"""ansible-test builds each sanity test's virtualenv with a pip it bootstraps from a script it
downloads from ci-files.testing.ansible.com (its copy of get-pip.py); where only PyPI is reachable
that download fails. This writes the bootstrap where ansible-test looks for it first
(~/.ansible/test/cache/get_pip_X_Y.py, as its error message says): the pip release it pins, as
PyPI's wheel, installing itself into the new virtualenv as get-pip.py does. Kept when present."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

from ansible_test._internal.python_requirements import get_venv_packages

BOOTSTRAP = '''"""pip {version} from its PyPI wheel beside this file, installing itself as get-pip.py does."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "{wheel}"))
from pip._internal.cli.main import main  # noqa: E402

options = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]  # get-pip.py's own
sys.exit(main(["install", "--upgrade", "--force-reinstall", *options]))
'''


def main() -> None:
    version = get_venv_packages(types.SimpleNamespace(version=f"{sys.version_info[0]}.{sys.version_info[1]}"))["pip"]
    cache = Path.home() / ".ansible" / "test" / "cache"
    bootstrap = cache / f"get_pip_{version.replace('.', '_')}.py"
    if bootstrap.exists():
        return
    cache.mkdir(parents=True, exist_ok=True)
    wheel = f"pip-{version}-py3-none-any.whl"
    if not (cache / wheel).exists():
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", f"pip=={version}"]
        subprocess.run([*pip, "-d", str(cache)], check=True)
    bootstrap.write_text(BOOTSTRAP.format(version=version, wheel=wheel))


if __name__ == "__main__":
    main()
