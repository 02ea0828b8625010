"""Sizes as people read them: 4 MiB, not 4194304 bytes (the JSON keeps the exact figure)."""

from __future__ import annotations

UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB")


def human_bytes(count: int | float) -> str:
    """COUNT bytes in the largest binary unit it reaches, to three significant figures at most:
    4194304 -> '4 MiB', 84362570 -> '80.5 MiB', 512 -> '512 bytes'."""
    value, unit = float(count), UNITS[0]
    for unit in UNITS:
        if abs(value) < 1024 or unit == UNITS[-1]:
            break
        value /= 1024
    if unit == UNITS[0]:
        return f"{int(count)} bytes"
    return f"{value:.3g} {unit}" if value < 1000 else f"{value:.0f} {unit}"
