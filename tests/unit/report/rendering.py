"""A report rendered by its writer as `migdoctor report render` renders it, for the writers' tests."""

from __future__ import annotations

from typing import Any

from migdoctor.report.writers import Format, RenderOptions, writer


def rendered(report: dict[str, Any], name: Format, quiet: bool = False) -> str:
    return writer(name).render(report, RenderOptions(quiet=quiet))
