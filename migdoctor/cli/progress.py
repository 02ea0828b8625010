"""A live progress bar for the test migration (terminal only): bytes moved, throughput, and the
link carrying the stream."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def migration_progress(enabled: bool) -> Iterator[Callable[[dict[str, Any]], None] | None]:
    if not enabled:
        yield None
        return
    from rich.markup import escape
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from migdoctor.report.safe import printable

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[link]}"),
        transient=True,
    ) as bar:
        task = bar.add_task("test migration", total=None, link="")

        def update(sample: dict[str, Any]) -> None:
            total = (sample.get("data_processed") or 0) + (sample.get("data_remaining") or 0)
            bar.update(
                task,
                description=escape(printable(sample.get("leg", "test migration"))),
                completed=sample.get("data_processed") or 0,
                total=total or None,
                link=escape(printable(f"via {sample['link']}")) if sample.get("link") else "",
            )

        yield update
