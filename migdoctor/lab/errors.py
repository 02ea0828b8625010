"""The lab's single error type: its text is the one line the CLI prints."""


class LabError(Exception):
    """A lab operation failed; str() is a one-line, user-facing message."""
