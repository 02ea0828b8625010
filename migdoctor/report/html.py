"""The report as one self-contained HTML page for a change board: the verdict, the path drawn
(predicted, and measured when a test migration ran) against the network it should take, the
findings with evidence and fix lines, the test migration's throughput over time, and the hosts.
No script, no external fetch: styles inline, diagrams as SVG; prints on A4."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader

from migdoctor.report.causes import causes, fleet_counts, pair_names
from migdoctor.report.document import EXIT_INCOMPLETE, EXIT_MEANINGS, EXIT_PASSED
from migdoctor.report.guests import blocking, destinations, evacuation_line, guest_table, plan_lines, predictions
from migdoctor.report.safe import printable_data
from migdoctor.report.values import accepted, fixes_of, is_pointer, pointed, reason, run_by_lines, shown
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


def nice_step(span: float, ticks: int = 4) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) that covers SPAN in at most TICKS steps."""
    rough = span / ticks if span > 0 else 1
    magnitude = 10 ** math.floor(math.log10(rough))
    return next(step * magnitude for step in (1, 2, 2.5, 5, 10) if step * magnitude >= rough)


def throughput_charts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One chart per leg of the test migration, in the order they ran, each from its own start
    (the legs run one after the other) and on its own scale (a 100 Mb/s leg beside a 1000 Mb/s
    one): the rate over time, and the sending link's effective speed as a dashed line. The y axis
    ends at the first round tick above the highest value, the x axis at the leg's last sample."""
    trial = report.get("migration_trial") or {}
    measured = {(leg["from"], leg["to"]): leg for leg in report.get("measured_path") or []}
    width, height = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    charts = []
    for number, leg in enumerate(trial.get("legs") or [], start=1):
        points = [p for p in leg.get("throughput") or [] if p["mbps"] is not None]
        if not points:
            continue
        known = measured.get((leg["from"], leg["to"])) or {}
        reference = known.get("effective_mbps") if known.get("ok") else None
        peak = max([p["mbps"] for p in points] + [reference or 0]) or 1
        y_step = nice_step(peak)
        y_max = y_step * (math.floor(peak / y_step) + 1)
        x_max = max(p["wall_s"] for p in points) or 1
        x_step = nice_step(x_max, 5)

        def x(seconds: float, x_max: float = x_max) -> float:
            return round(PAD_L + seconds / x_max * width, 1)

        def y(mbps: float, y_max: float = y_max) -> float:
            return round(PAD_T + height - mbps / y_max * height, 1)

        charts.append(
            {
                "title": f"leg {number}: {leg['from']} {leg['source_link'] or '?'} -> {leg['to']} "
                f"{leg['destination_link'] or '?'}, {leg['rate_mbps']} Mb/s",
                "width": CHART_W,
                "height": CHART_H,
                "left": PAD_L,
                "right": CHART_W - PAD_R,
                "top": PAD_T,
                "bottom": PAD_T + height,
                "points": " ".join(f"{x(p['wall_s'])},{y(p['mbps'])}" for p in points),
                "colour": LEG_COLOURS[(number - 1) % len(LEG_COLOURS)],
                "reference": None
                if reference is None
                else {"y": y(reference), "label": f"{known['source_link']} effective speed {reference} Mb/s"},
                "x_ticks": [
                    {"x": x(step * x_step), "label": f"{step * x_step:g} s"} for step in range(int(x_max / x_step) + 1)
                ],
                "y_ticks": [
                    {"y": y(step * y_step), "label": f"{step * y_step:g}"} for step in range(round(y_max / y_step) + 1)
                ],
            }
        )
    return charts


def fix_lines(report: dict[str, Any]) -> list[str]:
    return fixes_of(report["findings"])


def grouped(findings: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The findings by status, worst first; those accepted as risks are listed on their own."""
    risks = accepted(findings)
    return [(status, [f for f in findings if f["status"] == status and f not in risks]) for status in STATUS_ORDER]


@cache
def environment() -> Environment:
    """Built and its template compiled once per process."""
    env = Environment(loader=PackageLoader("migdoctor.report", "templates"), autoescape=True)
    env.globals.update(
        verdict=verdict,
        diagram_rows=diagram_rows,
        intended_line=intended_line,
        throughput_charts=throughput_charts,
        accepted=accepted,
        reason=reason,
        shown=shown,
        is_pointer=is_pointer,
        pointed=pointed,
        run_by_lines=run_by_lines,
        fleet_counts=fleet_counts,
        grouped=grouped,
        fix_lines=fix_lines,
        marks=MARKS,
        causes=causes,
        pair_names=pair_names,
        guest_destinations=destinations,
        guest_table=guest_table,
        guest_predictions=predictions,
        evacuation_line=evacuation_line,
        blocking=blocking,
        plan_lines=plan_lines,
    )
    return env


def render_html(report: dict[str, Any], _options: RenderOptions) -> str:
    report = printable_data(report)  # control characters from hosts shown as escapes; jinja escapes HTML
    return environment().get_template("report.html.j2").render(report=report, pairs=pairs_of(report))


WRITER = Writer(Format.html, render_html)
