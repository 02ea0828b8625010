"""Everything printed from host data is escaped: rich markup in a label or value never breaks the
text output, and control characters (an escape sequence in migration_host, a newline forging a
report line) are shown as escapes, on stdout and stderr, in text, Markdown and the facts view."""

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from rich.console import Console

from migdoctor.report.encoded import Encoded
from migdoctor.report.safe import printable, printable_data
from migdoctor.report.text import render_text
from migdoctor.report.writers import RenderOptions, writer

DATA = Path(__file__).parents[2] / "data" / "facts"
REPAINT = "\x1b[2J\x1b[H"


def hostile(report):
    """A report whose host-provided strings carry markup, escape sequences and a forged line."""
    report["hosts"]["source"]["label"] = "[/]"
    finding = next(f for f in report["findings"] if f["status"] == "fail")
    finding["summary"] += f" {REPAINT}\nPASS  everything.fine: forged"
    finding["evidence"][0]["host"] = "[/]"
    finding["evidence"][0]["actual"] = f"[bold]{REPAINT}"
    report["path"]["text"] = f"hosta [/] -> hostb{REPAINT}"
    return report


@pytest.mark.parametrize("text", ["plain", "tab\there", "e\u0301"])
def test_printable_text_is_unchanged(text):
    assert printable(text) == (text if text.isprintable() else "tab\\there")


@pytest.mark.parametrize(
    "text", ["plain", 'quoted "name"', "back\\slash", "new\nline", "esc\x1b[2J", "del\x7f", "rtl\u202e", "tab\t"]
)
@pytest.mark.parametrize("encode", [orjson.dumps, lambda pair: json.dumps(pair).encode()])
def test_encoded_pairs_are_made_printable_as_decoded_pairs_are(text, encode):
    pair = {"summary": text, "evidence": [{text: [text]}]}
    encoded = Encoded([encode(pair)])

    shown = printable_data(encoded)

    assert shown[0] == printable_data(pair)
    if text.isprintable():  # a fleet's plain pairs are passed on as they are, not decoded
        assert shown.items[0] is encoded.items[0]


@pytest.mark.parametrize(
    "text", ["plain", 'quoted "name"', "back\\slash", "new\nline", "esc\x1b[2J", "del\x7f", "rtl\u202e", "é"]
)
def test_a_matrix_is_walked_only_when_a_string_in_it_does_not_print(text):
    """A fleet's matrix (40,000 cells) is checked as JSON bytes; one unprintable key or value
    anywhere in it is still escaped, as a walk escapes it."""
    cells = {f"kvm{index}": {"verdict": "pass", "source_link": "mig0"} for index in range(3)}
    matrix = {"kvm0": dict(cells), "kvm1": {**cells, text: {"verdict": "fail", "source_link": text}}}

    shown = printable_data(matrix)

    assert shown["kvm1"][printable(text)] == {"verdict": "fail", "source_link": printable(text)}
    assert (shown is matrix) == (text.isprintable() and text.isascii())  # beyond ASCII: walked, to be sure


def test_text_output_shows_host_strings_literally(captured):
    console = Console(record=True, width=400, force_terminal=False)

    render_text(hostile(captured("seed")), console)
    out = console.export_text()

    assert "\x1b" not in out and "\\x1b[2J\\x1b[H" in out
    assert "[/]" in out and "[bold]" in out
    assert not [line for line in out.splitlines() if line.startswith("PASS  everything.fine")]


@pytest.mark.parametrize("name", ["markdown", "html", "junit"])
def test_file_formats_show_host_strings_literally(captured, name):
    out = writer(name).render(hostile(captured("seed")), RenderOptions())

    assert "\x1b" not in out and "\\x1b[2J" in out
    assert "\nPASS  everything.fine" not in out


def test_cli_with_hostile_facts_prints_no_escape_sequence(tmp_path, captured):
    facts = captured("seed")["facts"]
    facts["destination"]["config"]["qemu_conf"]["values"]["migration_host"] = f"[/]{REPAINT}"
    facts["destination"]["identity"]["hostname"] = f"hostb{REPAINT}"
    for side in ("source", "destination"):
        (tmp_path / f"{side}.json").write_text(json.dumps(facts[side]))

    result = subprocess.run(
        [
            sys.executable, "-m", "migdoctor", "check", "[/]", "hostb\x1b[31m", "--facts", str(tmp_path / "source.json"),
            str(tmp_path / "destination.json"), "--output", str(tmp_path / "r.json"),
        ],
        capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert "config.value-types: hostb\\x1b[31m:/etc/libvirt/qemu.conf: migration_host = '[/]\\x1b[2J" in result.stdout


def test_one_line_errors_escape_what_they_quote(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "migdoctor", "facts", f"winrm://kvm1{REPAINT}"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "MIGDOCTOR_INVENTORY": os.devnull},
    )  # fmt: skip

    assert result.returncode == 2
    assert (
        result.stderr
        == "migdoctor: winrm://kvm1\\x1b[2J\\x1b[H: unknown transport in 'winrm://kvm1\\x1b[2J\\x1b[H' (use local, ssh:// or lab:)\n"
    )


def test_check_listing_shows_a_drop_in_title_literally(tmp_path):
    (tmp_path / "site.py").write_text(
        "from migdoctor.checkapi import Registry, passed\nregistry = Registry()\n"
        "@registry.check('site.brackets', 'Links [/] and [bold]', 'low')\ndef x(pair):\n    return passed('x')\n"
    )

    result = subprocess.run(
        [sys.executable, "-m", "migdoctor", "checks", "--checks-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "Links [/] and [bold]" in result.stdout
