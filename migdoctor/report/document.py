"""The report as one JSON document: built from findings, validated against its schema, and
written atomically so a change request never gets half a report."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from migdoctor.schemas import schema_errors

REPORT_SCHEMA_VERSION = "1"
EXIT_PASSED, EXIT_FAILED, EXIT_COULD_NOT_RUN = 0, 1, 2
STATUSES = ("pass", "warn", "fail", "skip", "error")


class ReportError(Exception):
    """A report that does not match its schema, or cannot be written; one line."""


def facts_digest(facts: dict[str, Any] | None) -> str | None:
    """A stable fingerprint of the facts judged, so a report can be tied to saved facts."""
    if facts is None:
        return None
    canonical = json.dumps(facts, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def identity_summary(facts: dict[str, Any] | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    identity = facts["identity"]
    libvirt = identity["hypervisor"].get("libvirt") or {}
    return {
        "hostname": identity["hostname"],
        "fqdn": identity["fqdn"],
        "os": (identity.get("os") or {}).get("PRETTY_NAME"),
        "kernel": identity["kernel"],
        "kinds": identity["hypervisor"]["kinds"],
        "libvirt_version": libvirt.get("version"),
        "qemu_version": libvirt.get("hypervisor_version"),
    }


def totals(findings: list[dict[str, Any]]) -> dict[str, int]:
    counted = Counter(f["status"] for f in findings if not f["ignored"])
    result = {status: counted.get(status, 0) for status in STATUSES}
    result["ignored"] = sum(1 for f in findings if f["ignored"])
    return result


def exit_status(findings: list[dict[str, Any]], could_not_run: bool) -> int:
    """0: nothing failed; 1: a check failed or errored (not ignored); 2: a host could not be reached."""
    if could_not_run:
        return EXIT_COULD_NOT_RUN
    bad = any(f["status"] in ("fail", "error") and not f["ignored"] for f in findings)
    return EXIT_FAILED if bad else EXIT_PASSED


def finding_record(finding: Any) -> dict[str, Any]:
    record = dataclasses.asdict(finding)
    record["status"] = str(finding.status)
    return record


def validate_report(report: Any) -> None:
    errors = schema_errors("report", report)
    if errors:
        raise ReportError(
            f"report does not match its schema: {errors[0]}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        )


def write_report(report: dict[str, Any], path: Path) -> None:
    """Validate, then write to a temporary file beside PATH and rename it into place."""
    validate_report(report)
    umask = os.umask(0)
    os.umask(umask)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.fchmod(handle, 0o666 & ~umask)  # a report is for sharing: the umask decides, not mkstemp's 0600
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(report, stream, indent=2, default=str)
            stream.write("\n")
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise ReportError(f"{path}: cannot write report: {exc.strerror}") from None
