"""The report as one self-contained HTML page for a change board: the verdict, the path drawn
(predicted, and measured when a test migration ran) against the network it should take, the
findings with evidence and fix lines, the test migration's throughput over time, and the hosts.
No script, no external fetch: styles inline, diagrams as SVG; prints on A4."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader

from migdoctor.report.causes import causes, pair_names
from migdoctor.report.document import EXIT_INCOMPLETE, EXIT_MEANINGS, EXIT_PASSED
from migdoctor.report.safe import printable_data
from migdoctor.report.writers import Format, RenderOptions, Writer, pairs_of

STATUS_ORDER = ("fail", "error", "warn", "skip", "pass")
CHART_W, CHART_H, PAD_L, PAD_B, PAD_T, PAD_R = 680, 240, 56, 34, 14, 16
LEG_COLOURS = ("#1f5fa8", "#8a4fb8")


def verdict(report: dict[str, Any]) -> tuple[str, str]:
    """(word, css class) for the banner, from the exit status the CLI returns."""
    css = {EXIT_PASSED: "ok", EXIT_INCOMPLETE: "incomplete"}.get(report["exit_status"], "bad")
    return EXIT_MEANINGS[report["exit_status"]].upper(), css


def on_network_words(on: bool | None, network: str | None) -> tuple[str, str]:
    """The verdict in words (colour is never the only sign) and its css class, which also picks
    the diagram's mark and colour."""
    if on is None:
        return f"cannot tell whether this is the migration network ({network or 'none known'})", "unknown"
    if on:
        return f"ON the migration network {network}", "on"
    return f"NOT on the migration network {network}", "off"


MARKS = {"on": "✔ ON {}", "off": "✘ NOT ON {}", "unknown": "? {}", "failed": "✘ FAILED"}


def intended_line(report: dict[str, Any]) -> str | None:
    """The path it should have been: both hosts' links and addresses on the migration network."""
    links = report.get("intended_links")
    if not links or not links["source"] or not links["destination"]:
        return None
    hosts = report["hosts"]

    def side(label: str, items: list[dict[str, Any]]) -> str:
        return ", ".join(
            f"{label} {item['link']} {item['address']}"
            + (f" ({item['effective_mbps']} Mb/s)" if item["effective_mbps"] else "")
            for item in items
        )

    return f"{side(hosts['source']['label'], links['source'])} -> {side(hosts['destination']['label'], links['destination'])}"


def diagram_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per path to draw: the prediction, then each measured leg."""
    network = report["intent"]["migration_network"]
    hosts = report["hosts"]
    rows = []
    path = report["path"]
    if path:
        words, css = on_network_words(path["on_migration_network"], network)
        rows.append(
            {
                "title": "predicted",
                "left": [hosts["source"]["label"], path["source_link"] or "?", path["source_address"] or "?"],
                "right": [hosts["destination"]["label"], path["destination_link"] or "?", path["name"]],
                "over": f"{path['address'] or '?'}:{path['ports'][0]}-{path['ports'][1]}",
                "under": f"{path['source_rate_mbps']} Mb/s" if path["source_rate_mbps"] else "speed unknown",
                "words": words,
                "css": css,
            }
        )
    for leg in report.get("measured_path") or []:
        if not leg["ok"]:
            rows.append(
                {
                    "title": f"measured {leg['from']} -> {leg['to']}",
                    "left": [leg["from"], leg["source_link"] or "?", ""],
                    "right": [leg["to"], leg["destination_link"] or "?", ""],
                    "over": "migration failed",
                    "under": "",
                    "words": "the test migration failed: see migration.test-migration",
                    "css": "failed",
                }
            )
            continue
        words, css = on_network_words(leg["on_migration_network"], network)
        rows.append(
            {
                "title": f"measured {leg['from']} -> {leg['to']}",
                "left": [leg["from"], leg["source_link"] or "?", ""],
                "right": [leg["to"], leg["destination_link"] or "?", ""],
                "over": "test migration",
                "under": f"{leg['rate_mbps']} Mb/s measured"
                + (f" (link {leg['effective_mbps']} Mb/s)" if leg["effective_mbps"] else ""),
                "words": words,
                "css": css,
            }
        )
    return rows


def nice_ceiling(value: float) -> float:
    """A round axis maximum above VALUE (1, 2, 2.5 or 5 times a power of ten)."""
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def throughput_chart(report: dict[str, Any]) -> dict[str, Any] | None:
    """Scaled SVG coordinates of each leg's rate over time, and each sending link's effective
    speed as a dashed reference line."""
    trial = report.get("migration_trial") or {}
    legs = [leg for leg in trial.get("legs") or [] if leg.get("throughput")]
    if not legs:
        return None
    measured = {(leg["from"], leg["to"]): leg for leg in report.get("measured_path") or []}
    references: dict[int, list[str]] = {}  # links of the same speed share one line
    for leg in measured.values():
        if leg["effective_mbps"] and leg["ok"] and leg["source_link"] not in references.get(leg["effective_mbps"], []):
            references.setdefault(leg["effective_mbps"], []).append(leg["source_link"])
    peak = max([p["mbps"] or 0 for leg in legs for p in leg["throughput"]] + list(references))
    y_max = nice_ceiling(peak * 1.05 or 1)
    x_max = nice_ceiling(max(point["wall_s"] for leg in legs for point in leg["throughput"]) or 1)
    width, height = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(seconds: float) -> float:
        return round(PAD_L + seconds / x_max * width, 1)

    def y(mbps: float) -> float:
        return round(PAD_T + height - mbps / y_max * height, 1)

    series = []
    for colour, leg in zip(LEG_COLOURS, legs, strict=False):
        points = [(x(p["wall_s"]), y(p["mbps"])) for p in leg["throughput"] if p["mbps"] is not None]
        label = f"{leg['from']} {leg['source_link']} -> {leg['to']} {leg['destination_link']}: {leg['rate_mbps']} Mb/s"
        series.append({"points": " ".join(f"{px},{py}" for px, py in points), "colour": colour, "label": label})
    return {
        "width": CHART_W,
        "height": CHART_H,
        "left": PAD_L,
        "right": CHART_W - PAD_R,
        "top": PAD_T,
        "bottom": PAD_T + height,
        "series": series,
        "references": [
            {"y": y(rate), "label": f"{', '.join(links)} effective speed {rate} Mb/s"}
            for rate, links in sorted(references.items())
        ],
        "x_ticks": [{"x": x(x_max * i / 4), "label": f"{x_max * i / 4:g} s"} for i in range(5)],
        "y_ticks": [{"y": y(y_max * i / 4), "label": f"{y_max * i / 4:g}"} for i in range(5)],
    }


def fix_lines(report: dict[str, Any]) -> list[str]:
    """Every remediation of what did not pass and is not an accepted risk, once, in finding order."""
    lines = [
        f["remediation"]
        for f in report["findings"]
        if f["remediation"] and not f["ignored"] and f["status"] in ("fail", "error", "warn")
    ]
    return list(dict.fromkeys(lines))


def grouped(findings: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(status, [f for f in findings if f["status"] == status]) for status in STATUS_ORDER]


@cache
def environment() -> Environment:
    """Built and its template compiled once per process."""
    env = Environment(loader=PackageLoader("migdoctor.report", "templates"), autoescape=True)
    env.globals.update(
        verdict=verdict,
        diagram_rows=diagram_rows,
        intended_line=intended_line,
        throughput_chart=throughput_chart,
        grouped=grouped,
        fix_lines=fix_lines,
        marks=MARKS,
        causes=causes,
        pair_names=pair_names,
    )
    return env


def render_html(report: dict[str, Any], _options: RenderOptions) -> str:
    report = printable_data(report)  # control characters from hosts shown as escapes; jinja escapes HTML
    return environment().get_template("report.html.j2").render(report=report, pairs=pairs_of(report))


WRITER = Writer(Format.html, render_html)
