"""Every unit test may import the records tests/unit/checks keeps (tls_records, check_records):
the certificate maker serves the facts, report and action tests as well as the checks'."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "checks"))
