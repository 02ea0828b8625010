"""Renders the committed example reports (reports/example-*.json) and a saved fleet report
(tests/data/fleet-report.json) to HTML, and takes a full-page PNG of each into docs/ and an A4 PDF
print of each into build/screenshots/ with Debian's chromium (headless, JavaScript off, driven by
playwright). Run: .venv/bin/python scripts/screenshots.py"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from migdoctor.report.writers import Format, RenderOptions, writer

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {
    "report-seed": ROOT / "reports" / "example-seed.json",
    "report-healthy": ROOT / "reports" / "example-healthy.json",
    "report-fleet": ROOT / "tests" / "data" / "fleet-report.json",
}
BUILD = ROOT / "build" / "screenshots"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def main() -> None:
    BUILD.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS, headless=True)
        context = browser.new_context(java_script_enabled=False, viewport={"width": 900, "height": 1200})
        for name, source in SOURCES.items():
            report = json.loads(source.read_text(encoding="utf-8"))
            page_file = BUILD / f"{name}.html"
            page_file.write_text(writer(Format.html).render(report, RenderOptions()), encoding="utf-8")
            page = context.new_page()
            page.goto(page_file.as_uri(), wait_until="load")
            page.screenshot(path=ROOT / "docs" / f"{name}.png", full_page=True)
            page.emulate_media(media="print")
            page.pdf(path=BUILD / f"{name}.pdf", format="A4", print_background=True)
            page.close()
            print(f"docs/{name}.png, {BUILD.relative_to(ROOT)}/{name}.pdf", file=sys.stderr)
        browser.close()


if __name__ == "__main__":
    main()
