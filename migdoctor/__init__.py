"""migdoctor: find out which network a live migration between two hypervisors will take, and why."""

__version__ = "0.2.0"
