"""The documentation describes the product as it is: the README is short and starts with the two
commands CI runs, its examples are what migdoctor prints today, and neither the docs nor the code's
comments and docstrings cite this project's issues, work sessions or commits. (An upstream
project's issue cited as a check's source, `kubevirt 3504`, names no "issue" and stays.)"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from pathlib import Path

import pytest
from cli_runs import migdoctor

from migdoctor.engine import builtin_checks, pair_checks

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
HISTORY = [
    re.compile(r"\bissues?\s+#?\d+", re.I),  # the word issue and a number
    re.compile(r"(?<![&\w])#\d+\b"),  # a number after a hash sign, not an HTML entity
    re.compile(r"\b(first|second|third|fourth|fifth|earlier|previous|this|that|last) session\b", re.I),
    # a commit hash: 7-40 hex digits with a digit and a letter, a word of its own (not a run id's
    # tail after "-", not a digest after "sha256:")
    re.compile(r"(?<![\w:/.\-])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}(?![\w\-])"),
]


def prose_files() -> list[Path]:
    return [
        README,
        ROOT / "CHANGELOG.md",
        *sorted((ROOT / "docs").glob("*.md")),
        *ROOT.glob("ansible_collections/**/*.md"),
    ]


def source_files() -> list[Path]:
    found = [
        path
        for top in ("migdoctor", "checks", "bench", "scripts", "tests", "ansible_collections", ".ci")
        for path in (ROOT / top).rglob("*")
        if path.is_file()
    ]
    return sorted(path for path in found if "tests/data" not in path.as_posix() and "__pycache__" not in path.parts)


def python_comments(text: str) -> list[str]:
    """Comments and docstrings: what describes the code, not the data a test feeds it."""
    parts = [tok.string for tok in tokenize.generate_tokens(io.StringIO(text).readline) if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            parts.append(ast.get_docstring(node, clean=False) or "")
    return parts


def hash_comments(text: str) -> list[str]:
    """`#` comments of shell scripts, TOML and YAML."""
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def history_in(texts: list[str]) -> list[str]:
    return [found.group(0) for text in texts for pattern in HISTORY for found in pattern.finditer(text)]


def test_history_patterns_catch_what_they_are_for_and_leave_product_text_alone() -> None:
    caught = history_in(["before issue 7", "(#12)", "in the fourth session", "against b1e9d20, bda9789"])
    assert caught == ["issue 7", "#12", "fourth session", "b1e9d20", "bda9789"]
    assert not history_in(
        [
            "kubevirt 3504",
            "sha256:88602dbc6223aa7de",
            "20261206T162037Z-52ccc484",
            "&#34;",
            "the session's lab",
            "colour #1f5fa8",
            "4194304 bytes",
        ]
    )


@pytest.mark.parametrize("path", prose_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_the_docs_cite_no_issue_session_or_commit_of_this_project(path: Path) -> None:
    assert history_in([path.read_text()]) == []


def test_code_comments_and_docstrings_cite_no_issue_session_or_commit_of_this_project() -> None:
    offending = []
    for path in source_files():
        if path.suffix == ".py":
            texts = python_comments(path.read_text())
        elif path.suffix in (".sh", ".toml", ".yml", ".yaml", "") and path.read_bytes()[:2] != b"\x7fE":
            texts = hash_comments(path.read_text(errors="replace"))
        else:
            continue
        offending += [f"{path.relative_to(ROOT)}: {found}" for found in history_in(texts)]
    assert offending == []


def test_the_readme_is_short_and_starts_with_the_two_commands_ci_runs() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) < 300
    first = next(line for line in lines if line.startswith("## "))
    assert first.startswith("## The two commands")
    block = lines[lines.index(first) : lines.index(first) + 6]
    assert any(line.startswith("sh scripts/demo.sh ") for line in block)
    assert any(line.startswith("sh scripts/test.sh ") for line in block)
    assert "exec sh scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def example(command: str, page: Path = README) -> list[str]:
    """The lines of PAGE's example that starts with `$ COMMAND`, up to its fence."""
    lines = page.read_text().splitlines()
    start = lines.index(f"$ {command}") + 1
    return lines[start : lines.index("```", start)]


STATUSES = ("PASS  ", "WARN  ", "FAIL  ", "SKIP  ", "ERROR ")


def test_the_readmes_pair_example_shows_every_check_in_order_with_its_totals() -> None:
    checks = pair_checks(builtin_checks())
    shown = example("migdoctor check hosta hostb")
    assert [line[6:].split(":")[0] for line in shown if line.startswith(STATUSES)] == [check.id for check in checks]
    assert any(line.startswith(f"{len(checks)} checks: ") for line in shown)


def test_the_readmes_test_migration_example_names_real_checks_and_their_count() -> None:
    ids = [check.id for check in pair_checks(builtin_checks())]
    shown = example("migdoctor check hosta hostb --test-migration --canary-memory 128")
    assert {line[6:].split(":")[0] for line in shown if line.startswith(STATUSES)} <= set(ids)
    assert shown[-1].startswith(f"{len(ids)} checks: ")


def test_the_readmes_fleet_example_is_what_migdoctor_prints_for_the_captured_facts(tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    facts.mkdir()
    healthy, seed = (
        json.loads((ROOT / f"tests/data/facts/{name}-report.json").read_text()) for name in ("healthy", "seed")
    )
    for label, record in (
        ("kvm1", healthy["facts"]["source"]),
        ("kvm2", healthy["facts"]["destination"]),
        ("kvm3", seed["facts"]["destination"]),
    ):
        (facts / f"{label}.json").write_text(json.dumps(record))
    command = "migdoctor check --facts-dir facts/ --all --migration-network 198.51.100.0/24"
    done = migdoctor(tmp_path, *command.split()[1:], "--output", str(tmp_path / "report.json"))

    assert done.returncode == 1, done.stderr
    untimed = re.compile(r" \(\d+\.\d+ s\)$")
    printed = [untimed.sub("", line.rstrip()) for line in done.stdout.splitlines()]
    shown = [untimed.sub("", line) for line in example(command) if line != "..."]
    assert [line for line in shown if line not in printed] == []
    assert shown[-1] == printed[-1]


def test_the_report_diff_example_is_what_migdoctor_prints_for_the_example_reports() -> None:
    command = "migdoctor report diff reports/example-seed.json reports/example-seed-fixed.json"
    done = migdoctor(ROOT, *command.split()[1:])
    assert done.returncode == 0, done.stderr
    assert example(command, ROOT / "docs" / "reports.md") == done.stdout.splitlines()


def test_the_readmes_evacuate_example_is_what_migdoctor_prints_for_that_report() -> None:
    """tests/data/guests/readme-evacuate-report.json is the report the README's `evacuate hosta`
    run wrote on the lab's guests scenario; rendered again, its guests and plan read as shown."""
    command = "migdoctor report render tests/data/guests/readme-evacuate-report.json --format text"
    done = migdoctor(ROOT, *command.split()[1:])
    shown = example("migdoctor evacuate hosta -q")
    guests = shown[next(index for index, line in enumerate(shown) if line.startswith("guests: ")) :]
    assert done.returncode == 0, done.stderr
    assert guests == done.stdout.splitlines()[-len(guests) :]
