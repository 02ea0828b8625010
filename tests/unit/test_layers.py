"""The layers stay apart, read from the code's own imports (every `import` and `from ... import`,
at module level or inside a function): the run knows no command line, and the command line runs
through one entry point, migdoctor.run.check, without judging anything itself."""

import ast
from pathlib import Path

import pytest

import migdoctor

PACKAGE = Path(migdoctor.__file__).parent
RUN_ENTRY = "migdoctor.run.check"
# What judging is made of: the command line reaches it only through RUN_ENTRY.
JUDGING = ("migdoctor.judging", "migdoctor.netfilter", "migdoctor.facts", "migdoctor.checks", "checks", "migdoctor.run")
JUDGING_NAMES = {"migdoctor.engine": {"run_checks"}}  # the engine's catalogue (discover, select) lists checks


def imports(path: Path) -> list[tuple[str, set[str]]]:
    """Each module PATH imports, with the names taken from it (empty for `import X`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
            found += [(f"{node.module}.{alias.name}", set()) for alias in node.names]  # `from pkg import module`
    return found


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("path", files("run"), ids=lambda path: path.name)
def test_the_run_knows_no_command_line(path: Path) -> None:
    wrong = [module for module, _ in imports(path) if within(module, ("typer", "click", "migdoctor.cli"))]
    assert not wrong, f"{path.relative_to(PACKAGE.parent)} imports {wrong}"


@pytest.mark.parametrize("path", files("cli"), ids=lambda path: path.name)
def test_the_command_line_judges_nothing_itself(path: Path) -> None:
    wrong = [
        module
        for module, names in imports(path)
        if (within(module, JUDGING) and not within(module, (RUN_ENTRY,))) or names & JUDGING_NAMES.get(module, set())
    ]
    assert not wrong, f"{path.relative_to(PACKAGE.parent)} imports {wrong}; go through {RUN_ENTRY}"


def test_the_rule_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def run():\n    from migdoctor.run.judge import judge\n    import typer\n")

    assert ("migdoctor.run.judge", {"judge"}) in imports(sample) and ("typer", set()) in imports(sample)
