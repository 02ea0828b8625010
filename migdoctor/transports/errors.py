"""The one error of the transport layer."""


class TransportError(Exception):
    """A one-line message naming the host and what went wrong reaching it."""
