"""Text the way C's <ctype.h> sees it, for files that glibc splits with isspace()."""

import re

CSPACE = " \t\n\v\f\r"  # isspace() in the C locale; str.split() would also split on \x1c-\x1f
_RUN = re.compile(f"[{CSPACE}]+")


def csplit(text: str) -> list[str]:
    """Words separated by runs of C whitespace."""
    return [word for word in _RUN.split(text) if word]
