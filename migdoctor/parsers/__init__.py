"""Pure parsers for the files that decide where a migration connects: text in, plain data out.

Each parser follows the program that reads the file (libvirt, xend, xl, glibc), quirks included,
because migdoctor must report what the daemon sees, not what the admin meant.
"""


class ParseError(ValueError):
    """A file its own reader would reject; carries the place so a report can point at it."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message
