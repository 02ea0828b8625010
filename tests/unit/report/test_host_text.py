"""What a host chose to put in a value stays data in every format: Markdown shows raw HTML as
text (a renderer of the pasted report runs none of it), JSON escapes the C1 and bidi controls
(raw, they act on a terminal or reorder what a reader sees), and the text output cuts a huge value
and says how long it was."""

from __future__ import annotations

import html
import json

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from migdoctor.report.encoded import Encoded
from migdoctor.report.json_writer import json_chunks
from migdoctor.report.markdown import render_markdown
from migdoctor.report.text import render_text
from migdoctor.report.writers import RenderOptions, writer

SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(2)">'
OUT_OF_SPAN = f"`` {IMAGE} ``"  # backticks that would end a single-backtick code span early
CONTROLS = "\u0085\u009b2J\u202eevil\u202c\u2066x\u2069\u200e\u200f\u061c"
INVISIBLE = set("\u0085\u009b\u202e\u202c\u2066\u2069\u200e\u200f\u061c")


def hostile(report: dict) -> dict:
    report["hosts"]["hosta"]["label"] = f"hosta{SCRIPT}"
    pair = report["pairs"][0]
    pair["path"]["text"] = f"a-lan {OUT_OF_SPAN}"
    pair["not_checked"].append(f"hostb: {IMAGE}")
    pair["intent"]["decided_by"] = SCRIPT
    for finding in pair["findings"]:
        if finding["status"] == "fail":
            finding["title"] = IMAGE
            finding["summary"] = f"{SCRIPT} | {IMAGE}"
            finding["remediation"] = f"x {OUT_OF_SPAN}"
            finding["evidence"][0].update(host=IMAGE, item=SCRIPT, actual=OUT_OF_SPAN, expected=f"`{IMAGE}`")
    return report


def test_markdown_shows_raw_html_from_host_data_as_text(judge_report) -> None:
    markdown = render_markdown(hostile(judge_report("seed")))

    parser = MarkdownIt("commonmark").enable("table")
    tokens = parser.parse(markdown)
    html_tokens = [t for t in tokens if t.type == "html_block"] + [
        child for t in tokens for child in t.children or [] if child.type == "html_inline"
    ]
    rendered = parser.render(markdown)

    assert html_tokens == []
    assert "<script" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered  # shown, not dropped
    assert f"<code>{html.escape(OUT_OF_SPAN)}</code>" in rendered  # the whole value, in one span


def test_json_escapes_c1_and_bidi_controls_and_reads_back_the_same(judge_report) -> None:
    report = judge_report("seed")
    report["pairs"][0]["findings"][0]["summary"] = f"host said {CONTROLS} é"

    out = b"".join(json_chunks(report))

    assert not INVISIBLE & set(out.decode())
    assert b"\\u202e" in out and b"\\u0085" in out and "é".encode() in out
    assert json.loads(out)["pairs"][0]["findings"][0]["summary"] == f"host said {CONTROLS} é"


def test_a_fleets_encoded_pairs_are_escaped_too(judge_report) -> None:
    pair = judge_report("seed")["pairs"][0]
    pair["findings"][0]["summary"] = CONTROLS
    report = {"schema_version": "2", "pairs": Encoded([json.dumps(pair, ensure_ascii=False).encode()] * 2)}

    out = b"".join(json_chunks(report))

    assert not INVISIBLE & set(out.decode())
    assert [p["findings"][0]["summary"] for p in json.loads(out)["pairs"]] == [CONTROLS, CONTROLS]


@pytest.mark.parametrize(
    ("huge", "said"),
    [("A" * (50 << 20), "52,428,800"), ("\x1b" * (5 << 20), "5,242,880")],
    ids=["50-MB", "5-MB-unprintable"],
)
def test_text_output_cuts_a_huge_value_and_says_its_length(judge_report, huge: str, said: str) -> None:
    report = judge_report("seed")
    finding = next(f for f in report["pairs"][0]["findings"] if f["status"] == "fail")
    finding["evidence"][0]["actual"] = huge

    out = writer("text").render(report, RenderOptions())

    assert len(out) < 20_000
    assert f"(cut: {said} characters in all)" in out
    assert json.loads(b"".join(json_chunks(report)))["pairs"][0]["findings"]  # the JSON keeps it whole


def test_a_short_value_is_shown_whole(judge_report) -> None:
    console = Console(record=True, width=400, soft_wrap=True)
    report = judge_report("seed")
    next(f for f in report["pairs"][0]["findings"] if f["status"] == "fail")["evidence"][0]["actual"] = "B" * 2000

    render_text(report, console)

    assert "B" * 2000 in console.export_text() and "cut:" not in console.export_text()


def test_an_integer_beyond_64_bits_from_a_host_is_written_whole(judge_report) -> None:
    report = judge_report("seed")
    report["pairs"][0]["findings"][0]["evidence"] = [{"host": "hostb", "item": "port", "actual": 2**70, "expected": 1}]

    out = b"".join(json_chunks(report))

    assert json.loads(out)["pairs"][0]["findings"][0]["evidence"][0]["actual"] == 2**70


@pytest.mark.parametrize("name", ["text", "markdown", "junit"])
def test_writers_that_show_no_facts_do_not_walk_them(judge_report, name: str) -> None:
    report = judge_report("seed")
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    report["facts"] = {"hosta": {"x": deep}}

    assert writer(name).render(report, RenderOptions())
