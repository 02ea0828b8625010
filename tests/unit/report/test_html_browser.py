"""The HTML report opened in a real browser: Debian's chromium, headless, driven by playwright
(the system browser, never a downloaded one). What a change board sees must be visible with
JavaScript off, the page must fetch nothing, and it must print on A4 without cut-off content.
A screenshot and the PDF print are kept as test artifacts (build/test-artifacts, or
$MIGDOCTOR_TEST_ARTIFACTS)."""

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from migdoctor.report.writers import Format, RenderOptions, writer

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(os.environ.get("MIGDOCTOR_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium tries connections this closed network refuses.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
A4_PRINTABLE_PX = round((210 - 24) / 25.4 * 96)  # A4 less the page's 12 mm side margins, at CSS 96 px/in
MIGRATION_HOST_FIX = 'hostb:/etc/libvirt/qemu.conf: migration_host = "hostb-fast.lab.test"'


def html_file(tmp_path: Path, example: str) -> Path:
    report = json.loads((ROOT / "reports" / f"example-{example}.json").read_text(encoding="utf-8"))
    page = tmp_path / f"{example}.html"
    page.write_text(writer(Format.html).render(report, RenderOptions()), encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One chromium for the module, with a new empty profile."""
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            java_script_enabled=False,  # the report must not need it
            viewport={"width": 900, "height": 1200},
        )
        yield context
        context.close()


@pytest.fixture
def opened(browser: Any, tmp_path: Path) -> Iterator[tuple[Page, list[str]]]:
    """The seed example's page, and every URL the browser requested while loading it."""
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(html_file(tmp_path, "seed").as_uri(), wait_until="load")
    yield page, requested
    page.close()


def test_diagram_chart_and_fix_are_visible_with_javascript_off(opened: tuple[Page, list[str]]) -> None:
    page, _ = opened

    assert page.locator("#verdict").inner_text().startswith("FAILED: 4 fail")
    diagram = page.locator("#path-diagram svg")
    assert diagram.count() == 3  # predicted, and both legs of the test migration
    assert all(diagram.nth(i).is_visible() for i in range(3))
    assert diagram.first.bounding_box()["height"] > 50
    assert page.get_by_text("predicted: NOT on the migration network 198.51.100.0/24").is_visible()
    chart = page.locator("#throughput-chart svg")
    assert chart.count() == 2 and all(chart.nth(i).is_visible() for i in range(2))  # one per leg
    assert chart.first.get_by_text("a-lan effective speed 100 Mb/s").is_visible()
    assert MIGRATION_HOST_FIX in page.locator("#fixes").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "report-seed.png", full_page=True)


def test_the_page_fetches_nothing(opened: tuple[Page, list[str]]) -> None:
    page, requested = opened

    assert requested == [page.url]  # the file itself, nothing else
    resources = page.evaluate("performance.getEntriesByType('resource').length")  # JS off for pages, not for us
    assert resources == 0


def test_the_request_log_would_catch_a_fetch(browser: Any, tmp_path: Path) -> None:
    """The probe above is only worth something if it sees a fetch: a stylesheet on loopback's
    discard port (refused, nothing leaves the machine)."""
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    fetching = tmp_path / "fetching.html"
    fetching.write_text('<link rel="stylesheet" href="http://127.0.0.1:9/x.css"><p>x</p>')

    page.goto(fetching.as_uri())

    assert "http://127.0.0.1:9/x.css" in requested
    page.close()


def test_prints_on_a4_without_cut_off_content(opened: tuple[Page, list[str]]) -> None:
    page, _ = opened
    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_PRINTABLE_PX, "height": 1000})

    too_wide = page.evaluate(
        """width => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 0.5)
            .map(e => e.tagName + (e.id ? '#' + e.id : ''))""",
        A4_PRINTABLE_PX,
    )

    assert too_wide == []
    assert page.evaluate("document.documentElement.scrollWidth") <= A4_PRINTABLE_PX
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(path=ARTIFACTS / "report-seed.pdf", format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2


def test_a_passing_report_shows_the_fast_path_on_the_network(browser: Any, tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto(html_file(tmp_path, "healthy").as_uri())

    assert page.locator("#verdict").inner_text().startswith("PASSED")
    assert page.get_by_text("measured hosta -> hostb: ON the migration network 198.51.100.0/24").is_visible()
    assert page.locator("#fixes").count() == 0
    page.screenshot(path=ARTIFACTS / "report-healthy.png", full_page=True)
    page.close()


def test_a_fleet_report_prints_each_pair_from_a_new_page(browser: Any, tmp_path: Path) -> None:
    fleet = json.loads((ROOT / "tests" / "data" / "fleet-report.json").read_text(encoding="utf-8"))
    page_file = tmp_path / "fleet.html"
    page_file.write_text(writer(Format.html).render(fleet, RenderOptions()), encoding="utf-8")
    page = browser.new_page()
    page.goto(page_file.as_uri())
    page.emulate_media(media="print")

    breaks = page.evaluate("[...document.querySelectorAll('section.pair')].map(s => getComputedStyle(s).breakBefore)")
    kept = page.evaluate("[...document.querySelectorAll('h2, h3')].map(h => getComputedStyle(h).breakAfter)")

    assert breaks == ["page", "page"]
    assert set(kept) == {"avoid"}
    page.close()
