"""What could not be collected, and why. A missing fact is recorded, never guessed."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any, TypeVar

from migdoctor.parsers import ParseError

T = TypeVar("T")


class Gaps:
    """Collects one entry per fact that could not be collected."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, fact: str, reason: str, *, file: str | None = None, line: int | None = None) -> None:
        entry: dict[str, Any] = {"fact": fact, "reason": reason}
        if file is not None:
            entry["file"] = file
        if line is not None:
            entry["line"] = line
        self.entries.append(entry)

    def attempt(self, fact: str, collect: Callable[[], T]) -> T | None:
        """Run one collector; on failure record why and return None so the others still run."""
        try:
            return collect()
        except ParseError as exc:
            self.add(fact, f"parse error: {exc.message}", file=exc.path, line=exc.line)
        except FileNotFoundError as exc:
            self.add(fact, "file not found", file=exc.filename)
        except PermissionError as exc:
            self.add(fact, "permission denied", file=exc.filename)
        except OSError as exc:
            name = errno.errorcode.get(exc.errno or 0, "error")
            self.add(fact, f"{name}: {exc.strerror or exc}", file=exc.filename)
        except Exception as exc:  # noqa: BLE001 - any collector failure becomes a recorded gap
            self.add(fact, f"{type(exc).__name__}: {exc}")
        return None


def read_text(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()
