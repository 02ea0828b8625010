"""Built-in check modules are found on disk, not listed by hand: a module added to the checks
package runs without any other edit, one that declares nothing fails discovery naming its file,
and the registries' order places the areas in listings and reports."""

import sys
from collections.abc import Iterator
from pathlib import Path

import migdoctor.checks
import pytest

from migdoctor.engine import DiscoveryError, builtin_checks, builtin_modules, directory_checks

CHECKS_DIR = Path(migdoctor.checks.__file__).parent
NEW_MODULE = '''\
"""A module a developer adds to the checks package."""

from migdoctor.checkapi import Registry, passed

registry = Registry(order=15)


@registry.check(
    "zz.new-module",
    "A check in a module no list names",
    "low",
    description="never: it exists to be discovered",
    rationale="a new module must not silently never run",
    fix="none needed",
)
def new_module(pair):
    return passed("ran")
'''


@pytest.fixture
def checks_package_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The checks package with TMP_PATH as one more of its folders (as a namespace portion is);
    the modules imported from there are forgotten afterwards."""
    monkeypatch.setattr(migdoctor.checks, "__path__", [*migdoctor.checks.__path__, str(tmp_path)])
    yield tmp_path
    for path in tmp_path.glob("*.py"):
        sys.modules.pop(f"migdoctor.checks.{path.stem}", None)


def test_every_module_file_in_the_checks_package_is_discovered() -> None:
    on_disk = {path.stem for path in CHECKS_DIR.glob("*.py") if not path.stem.startswith("_")}
    assert {name.rpartition(".")[2] for name, _ in builtin_modules()} == on_disk
    assert {check.run.__module__.rpartition(".")[2] for check in builtin_checks()} == on_disk


def test_a_new_module_in_the_checks_package_runs_without_editing_a_list(checks_package_with: Path) -> None:
    (checks_package_with / "zz.py").write_text(NEW_MODULE)

    ids = [check.id for check in builtin_checks()]

    assert "zz.new-module" in ids
    # order 15 places it between dns (10) and route (20)
    assert ids.index("dns.forward-reverse") < ids.index("zz.new-module") < ids.index("route.egress-interface")


def test_a_helper_module_named_with_an_underscore_is_not_a_check_module(checks_package_with: Path) -> None:
    (checks_package_with / "_shared.py").write_text('"""Helpers for several check modules."""\n')

    assert "_shared" not in {name.rpartition(".")[2] for name, _ in builtin_modules()}
    assert builtin_checks()


def test_a_module_without_a_registry_fails_discovery_naming_its_file(checks_package_with: Path) -> None:
    (checks_package_with / "forgot.py").write_text('"""Declares no registry."""\n')

    with pytest.raises(DiscoveryError) as raised:
        builtin_checks()

    assert str(raised.value) == f"{checks_package_with / 'forgot.py'}: module has no 'registry = Registry()' of checks"


def test_a_built_in_check_without_a_rationale_fails_discovery_naming_its_file(checks_package_with: Path) -> None:
    (checks_package_with / "zz.py").write_text(
        NEW_MODULE.replace('    rationale="a new module must not silently never run",\n', "")
    )

    with pytest.raises(DiscoveryError) as raised:
        builtin_checks()

    assert str(raised.value) == f"{checks_package_with / 'zz.py'}: zz.new-module: a built-in check needs a rationale"


def test_a_built_in_module_that_raises_at_import_is_one_line_naming_its_file(checks_package_with: Path) -> None:
    (checks_package_with / "broken.py").write_text("import nothing_of_that_name\n")

    with pytest.raises(DiscoveryError) as raised:
        builtin_checks()

    assert str(raised.value) == (
        f"{checks_package_with / 'broken.py'}: ModuleNotFoundError: No module named 'nothing_of_that_name'"
    )


def test_the_registries_order_places_the_areas() -> None:
    checks = builtin_checks()
    orders = [sys.modules[check.run.__module__].registry.order for check in checks]
    assert orders == sorted(orders)
    assert checks[0].area == "dns"  # the thread's cause first, the active proofs after the static checks
    assert [check.area for check in checks].index("probe") > [check.area for check in checks].index("firewall")


DROP_IN = '''\
"""Site rule."""

from migdoctor.checkapi import Registry, passed

registry = Registry()


@registry.check("site.rule", "A site rule", "low"{extra})
def rule(pair):
    return passed("fine")
'''


def test_a_drop_in_may_leave_out_its_description_and_rationale(tmp_path: Path) -> None:
    (tmp_path / "site.py").write_text(DROP_IN.format(extra=""))

    (check,) = directory_checks(str(tmp_path))

    assert (check.id, check.description, check.rationale) == ("site.rule", "", "")


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (", rationale=42", "rationale must be one paragraph of printable text"),
        (', description="two\\nlines"', "description must be one paragraph of printable text"),
        (', rationale="\\x1b[2J"', "rationale must be one paragraph of printable text"),
        (', description="   "', "description must be one paragraph of printable text"),
    ],
    ids=["not-text", "newline", "escape-sequence", "blank"],
)
def test_a_drop_in_description_or_rationale_is_held_to_the_contract(tmp_path: Path, extra: str, problem: str) -> None:
    (tmp_path / "site.py").write_text(DROP_IN.format(extra=extra))

    with pytest.raises(DiscoveryError) as raised:
        directory_checks(str(tmp_path))

    assert str(raised.value) == f"file {tmp_path / 'site.py'}: site.rule: {problem}"
