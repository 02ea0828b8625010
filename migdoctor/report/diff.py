"""What changed between two reports of the same pairs, pair by pair: the path and the link that
carried the test migration, findings whose status changed, facts whose digest changed, the
measured rate. The question a change request asks last: did the fix work, and did anything get
worse? A check that gave a verdict and now skips or is gone is no longer verified: worse, never
better."""

from __future__ import annotations

import json
from typing import Any

from migdoctor.report.document import VERDICT_RANK
from migdoctor.report.markdown import code, text
from migdoctor.report.writers import pairs_of

# How bad a status is; an ignored finding is an accepted risk and counts as passed.
RANK = {"pass": 0, "skip": 0, "warn": 1, "fail": 2, "error": 2}
VERIFIED = ("pass", "warn", "fail")  # a check that gave a verdict, ignored or not
WORSE = ("regressed", "no longer verified")


class NotComparable(Exception):
    """Two reports without a pair in common: one line."""


def pair_name(report: dict[str, Any]) -> str:
    return f"{report['hosts']['source']['label']} -> {report['hosts']['destination']['label']}"


def rank(finding: dict[str, Any] | None) -> int:
    return 0 if finding is None or finding["ignored"] else RANK[finding["status"]]


def shown(finding: dict[str, Any] | None) -> str | None:
    if finding is None:
        return None
    return finding["status"] + (" (ignored)" if finding["ignored"] else "")


def carried(report: dict[str, Any]) -> dict[str, Any] | None:
    """The outbound leg of the test migration: the links it crossed and its rate."""
    legs = report.get("measured_path") or []
    trial_legs = (report.get("migration_trial") or {}).get("legs") or []
    if legs:
        leg = legs[0]
        return {key: leg[key] for key in ("source_link", "destination_link", "on_migration_network", "rate_mbps")}
    if trial_legs:  # a report made before measured_path was recorded
        leg = trial_legs[0]
        return {
            "source_link": leg.get("source_link"),
            "destination_link": leg.get("destination_link"),
            "on_migration_network": None,
            "rate_mbps": leg.get("rate_mbps"),
        }
    return None


def facts_change(old: dict[str, Any], new: dict[str, Any], side: str) -> dict[str, Any] | None:
    """The host's facts fingerprints when they differ: the stable ones (without collection time and
    byte counters) when both reports have them, else the full ones, which differ on every run."""
    was, now = old["hosts"][side], new["hosts"][side]
    key = "facts_stable_digest" if was.get("facts_stable_digest") and now.get("facts_stable_digest") else "facts_digest"
    if was[key] == now[key]:
        return None
    return {"host": now["label"], "digest": key, "old": was[key], "new": now[key]}


def change(was: dict[str, Any] | None, now: dict[str, Any] | None) -> str:
    if was is not None and was["status"] in VERIFIED and (now is None or now["status"] == "skip"):
        return "no longer verified"
    delta = rank(now) - rank(was)
    return "regressed" if delta > 0 else "improved" if delta < 0 else "changed"


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Each pair both reports hold, compared; a pair NEW lacks is no longer verified (worse)."""
    before = {pair_name(pair): pair for pair in pairs_of(old)}
    after = {pair_name(pair): pair for pair in pairs_of(new)}
    common = [name for name in after if name in before]
    if not common:
        raise NotComparable(f"reports of different pairs: {', '.join(before)} and {', '.join(after)}")
    pairs = [compare_pair(before[name], after[name]) for name in common]
    missing = [name for name in before if name not in after]
    guests = compare_guests(old, new)
    diff: dict[str, Any] = {"pairs": pairs, "missing": missing, "added": [name for name in after if name not in before]}
    if "guests" in old or "guests" in new:
        diff["guests"] = guests
    diff["regressed"] = bool(missing) or any(p["regressed"] for p in pairs) or any(g["change"] in WORSE for g in guests)
    return diff


def compare_guests(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Each guest and destination whose verdict changed; one judged before and absent now is no
    longer verified, as a pair would be."""

    def verdicts(report: dict[str, Any]) -> dict[str, str]:
        return {f"{g['name']} ({g['source']} -> {g['destination']})": g["verdict"] for g in report.get("guests") or []}

    before, after = verdicts(old), verdicts(new)
    changed = []
    for name in [*after, *(name for name in before if name not in after)]:
        was, now = before.get(name), after.get(name)
        if was == now:
            continue
        if now is None:
            how = "no longer verified"
        elif was is None:
            how = "changed"
        else:
            delta = VERDICT_RANK.index(now) - VERDICT_RANK.index(was)
            how = "regressed" if delta > 0 else "improved"
        changed.append({"guest": name, "old": was, "new": now, "change": how})
    return changed


def compare_pair(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    before = {f["id"]: f for f in old["findings"]}
    after = {f["id"]: f for f in new["findings"]}
    findings = []
    for check_id in [*after, *(i for i in before if i not in after)]:
        was, now = before.get(check_id), after.get(check_id)
        if shown(was) != shown(now):
            findings.append({"id": check_id, "old": shown(was), "new": shown(now), "change": change(was, now)})
    facts = [changed for side in ("source", "destination") if (changed := facts_change(old, new, side))]
    old_path, new_path = old["path"] or {}, new["path"] or {}
    path_worse = old_path.get("on_migration_network") is True and new_path.get("on_migration_network") is not True
    could_not_run = new["exit_status"] == 2 and old["exit_status"] != 2
    return {
        "pair": pair_name(new),
        "old": {"run_id": old["run_id"], "started_at": old["started_at"], "exit_status": old["exit_status"]},
        "new": {"run_id": new["run_id"], "started_at": new["started_at"], "exit_status": new["exit_status"]},
        "path": {
            "old": old_path.get("text"),
            "new": new_path.get("text"),
            "old_on_migration_network": old_path.get("on_migration_network"),
            "new_on_migration_network": new_path.get("on_migration_network"),
        },
        "test_migration": {"old": carried(old), "new": carried(new)},
        "findings": findings,
        "facts_changed": facts,
        "regressed": path_worse or could_not_run or any(f["change"] in WORSE for f in findings),
    }


def on_words(on: bool | None) -> str:
    return {True: "on the migration network", False: "OFF the migration network", None: "network unknown"}[on]


def carried_words(leg: dict[str, Any] | None) -> str:
    if leg is None:
        return "no test migration"
    return f"{leg['source_link']} -> {leg['destination_link']} at {leg['rate_mbps']} Mb/s"


def summary_lines(diff: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, old, new) rows shared by the text and Markdown forms."""
    path, trial = diff["path"], diff["test_migration"]
    rows = [
        ("exit status", str(diff["old"]["exit_status"]), str(diff["new"]["exit_status"])),
        (
            "predicted path",
            f"{path['old'] or 'unknown'} ({on_words(path['old_on_migration_network'])})",
            f"{path['new'] or 'unknown'} ({on_words(path['new_on_migration_network'])})",
        ),
        ("test migration", carried_words(trial["old"]), carried_words(trial["new"])),
    ]
    rows += [
        (
            f"facts of {f['host']}"
            + ("" if f["digest"] == "facts_stable_digest" else " (full digest: differs every run)"),
            f["old"] or "none",
            f["new"] or "none",
        )
        for f in diff["facts_changed"]
    ]
    return rows


def shown_pairs(diff: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The pairs to show, and a line counting those left out: a single pair always, of several
    only those where something changed (a fleet's diff is about what changed)."""
    pairs = diff["pairs"]
    if len(pairs) == 1:
        return pairs, []
    changed = [pair for pair in pairs if pair["findings"] or any(old != new for _, old, new in summary_lines(pair))]
    same = len(pairs) - len(changed)
    return changed, [f"{same} pair{'s' if same > 1 else ''} unchanged"] if same else []


def render_text(diff: dict[str, Any]) -> str:
    pairs, unchanged = shown_pairs(diff)
    lines = []
    for pair in pairs:
        lines.append(f"{pair['pair']}: {pair['old']['run_id']} -> {pair['new']['run_id']}")
        for what, old, new in summary_lines(pair):
            marker = "  " if old == new else "* "
            lines.append(f"{marker}{what}: {old}" + ("" if old == new else f"\n    now: {new}"))
        for finding in pair["findings"]:
            lines.append(
                f"{finding['change'].upper():9} {finding['id']}: {finding['old'] or 'absent'} -> {finding['new'] or 'absent'}"
            )
    lines += [
        f"{guest['change'].upper():9} guest {guest['guest']}: {guest['old'] or 'absent'} -> {guest['new'] or 'absent'}"
        for guest in diff.get("guests") or []
    ]
    lines += [f"NO LONGER VERIFIED {name}: not in the new report" for name in diff["missing"]]
    lines += [f"NEW       {name}: not in the old report" for name in diff["added"]]
    lines += unchanged
    lines.append("a check regressed" if diff["regressed"] else "no worse than before")
    return "\n".join(lines) + "\n"


def render_markdown(diff: dict[str, Any]) -> str:
    pairs, unchanged = shown_pairs(diff)
    lines = []
    for pair in pairs:
        lines += [
            f"# What changed: {text(pair['pair'])}",
            "",
            f"Old run {code(pair['old']['run_id'], in_table=False)} ({text(pair['old']['started_at'])}), new run {code(pair['new']['run_id'], in_table=False)} ({text(pair['new']['started_at'])}).",
            "",
            "| | before | after |",
            "|---|---|---|",
        ]
        lines += [f"| {what} | {text(old)} | {text(new)} |" for what, old, new in summary_lines(pair)]
        if pair["findings"]:
            lines += ["", "| change | check | before | after |", "|---|---|---|---|"]
            lines += [
                f"| {f['change']} | `{f['id']}` | {f['old'] or 'absent'} | {f['new'] or 'absent'} |"
                for f in pair["findings"]
            ]
        lines.append("")
    if diff.get("guests"):
        lines += ["| change | guest | before | after |", "|---|---|---|---|"]
        lines += [
            f"| {g['change']} | {text(g['guest'])} | {g['old'] or 'absent'} | {g['new'] or 'absent'} |"
            for g in diff["guests"]
        ]
        lines.append("")
    lines += [f"- No longer verified: {text(name)} is not in the new report" for name in diff["missing"]]
    lines += [f"- New: {text(name)} is not in the old report" for name in diff["added"]]
    lines += [f"- {line}" for line in unchanged]
    lines += ["", "**A check regressed.**" if diff["regressed"] else "No worse than before."]
    return "\n".join(lines) + "\n"


def render_json(diff: dict[str, Any]) -> str:
    return json.dumps(diff, indent=2) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
