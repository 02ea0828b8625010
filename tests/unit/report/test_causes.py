"""Grouping what did not pass by cause over many pairs, and the matrix as a terminal shows it."""

import orjson

from migdoctor.report.causes import abstracted, causes, matrix_rows, pair_names
from migdoctor.report.document import EXIT_INCOMPLETE, exit_status, pair_summary
from migdoctor.report.encoded import Encoded
from migdoctor.report.totals import totals


def host(label):
    return {"label": label, "identity": {"fqdn": f"{label}.lab.test", "hostname": label}}


def pair(src, dst, *findings, unverified=()):
    return {
        "source": src,
        "destination": dst,
        "hosts": {"source": host(src), "destination": host(dst)},
        "findings": list(findings),
        "totals": totals(list(findings)),
        "not_checked": [],
        "path": None,
        "unverified": list(unverified),
        "exit_status": exit_status(list(findings), False, unverified),
    }


def finding(summary, status="fail", remediation=None, check_id="dns.migration-host-address", ignored=False):
    return {"id": check_id, "status": status, "summary": summary, "remediation": remediation, "ignored": ignored}


def test_one_finding_on_many_pairs_is_one_cause_naming_them_with_each_fix_once():
    pairs = [
        pair(
            src,
            "kvm7",
            finding(
                f"kvm7.lab.test resolves on {src} to 192.0.2.{n}, off the migration network",
                remediation='kvm7:/etc/libvirt/qemu.conf: migration_host = "198.51.100.7"',
            ),
        )
        for n, src in enumerate(["kvm1", "kvm2", "kvm3"], start=1)
    ] + [pair("kvm1", "kvm2", finding("kvm2 leaves migration_address unset", status="warn", check_id="listen.x"))]

    (dns, listen) = causes(pairs)

    assert dns.pairs == [("kvm1", "kvm7"), ("kvm2", "kvm7"), ("kvm3", "kvm7")]
    assert dns.summary == "kvm7 resolves on <source> to <address>, off the migration network"
    assert dns.fixes == ['kvm7:/etc/libvirt/qemu.conf: migration_host = "198.51.100.7"']
    assert pair_names(dns.pairs) == "kvm1, kvm2, kvm3 -> kvm7"
    assert (listen.status, listen.summary) == ("warn", "kvm2 leaves migration_address unset")


def test_encoded_pairs_give_the_causes_their_decoded_pairs_give():
    statuses = ["pass", "skip", "warn", "fail", "error", "pass"]
    pairs = [
        pair(f"kvm{n}", "kvm9", finding("fine", "pass"), finding(f"kvm9 says {status}", status, check_id=f"x.{status}"))
        for n, status in enumerate(statuses)
    ] + [pair("kvm8", "kvm9", finding('a summary quoting "status":"fail"', "pass"))]

    encoded = causes(Encoded([orjson.dumps(entry) for entry in pairs], summaries=list(map(pair_summary, pairs))))

    assert encoded == causes(pairs) == causes(Encoded([orjson.dumps(entry) for entry in pairs]))
    assert [(cause.check_id, cause.pairs) for cause in encoded] == [
        ("x.error", [("kvm4", "kvm9")]),
        ("x.fail", [("kvm3", "kvm9")]),
        ("x.warn", [("kvm2", "kvm9")]),
    ]


def test_passes_skips_and_accepted_risks_are_no_cause():
    pairs = [pair("a", "b", finding("fine", "pass"), finding("not run", "skip"), finding("known", ignored=True))]

    assert causes(pairs) == []


def test_a_wide_matrix_becomes_one_line_per_source_naming_what_did_not_pass():
    labels = [f"kvm{n}" for n in range(12)]
    cell = {"verdict": "pass", "source_link": "eth1", "destination_link": "eth1", "on_migration_network": True}
    matrix = {src: {dst: dict(cell) for dst in labels if dst != src} for src in labels}
    matrix["kvm0"]["kvm5"]["verdict"] = "fail"
    report = {"hosts": {label: host(label) for label in labels}, "matrix": matrix}

    title, rows = matrix_rows(report)

    assert title.startswith("matrix (one line per source")
    assert rows[0] == [("kvm0 -> 11 destinations: 10 pass, 1 fail (not passing: kvm5)", "fail")]
    assert rows[1] == [("kvm1 -> 11 destinations: 11 pass", "pass")]


def test_a_pairs_addresses_are_taken_out_of_a_cause_but_networks_times_and_names_stay():
    summary = "kvm7 resolves on kvm1 to 192.0.2.7 and [2001:db8::7]:49152, off 198.51.100.0/24 and 2001:db8:100::/64 at 12:30:45"

    assert abstracted(summary, pair("kvm1", "kvm7")) == (
        "<destination> resolves on <source> to <address> and <address>:49152, off 198.51.100.0/24 and "
        "2001:db8:100::/64 at 12:30:45"
    )


def test_only_pairs_whose_totals_count_what_did_not_pass_are_decoded():
    pairs = [pair("kvm1", "kvm9", finding("fine", "pass")), pair("kvm2", "kvm9", finding("kvm9 fails", "fail"))]
    pairs.append(pair("kvm3", "kvm9", finding("known", ignored=True)))
    decoded = []
    encoded = Encoded(
        [orjson.dumps(entry) for entry in pairs],
        mapping=lambda entry: decoded.append(entry["hosts"]["source"]["label"]) or entry,
        summaries=list(map(pair_summary, pairs)),
    )

    assert [cause.pairs for cause in causes(encoded)] == [[("kvm2", "kvm9")]]
    assert decoded == ["kvm2"]


def test_what_an_incomplete_pairs_path_lacks_is_a_cause_after_failures_and_before_warnings():
    missing = "the address of kvm9-fast on {} (dns.migration-host-address skip: {}: no look-up of 'kvm9-fast')"
    pairs = [
        pair(src, "kvm9", finding("fine", "pass"), unverified=[missing.format(src, src)]) for src in ("kvm1", "kvm2")
    ]
    pairs.append(pair("kvm3", "kvm9", finding("kvm9 fails"), unverified=[missing.format("kvm3", "kvm3")]))
    pairs.append(pair("kvm4", "kvm9", finding("kvm9 warns", "warn", check_id="listen.x")))
    assert [entry["exit_status"] for entry in pairs[:2]] == [EXIT_INCOMPLETE] * 2

    fail, incomplete, warn = causes(pairs)

    assert (fail.status, incomplete.status, warn.status) == ("fail", "incomplete", "warn")
    assert incomplete.check_id == "path" and incomplete.pairs == [
        ("kvm1", "kvm9"),
        ("kvm2", "kvm9"),
    ]  # not the failed one
    assert incomplete.summary == missing.format("<source>", "<source>")


def test_encoded_incomplete_pairs_are_found_from_their_summaries():
    pairs = [pair("kvm1", "kvm9", finding("fine", "pass")), pair("kvm2", "kvm9", unverified=["the migration network"])]
    decoded = []
    encoded = Encoded(
        [orjson.dumps(entry) for entry in pairs],
        mapping=lambda entry: decoded.append(entry["hosts"]["source"]["label"]) or entry,
        summaries=list(map(pair_summary, pairs)),
    )

    assert [(cause.status, cause.pairs) for cause in causes(encoded)] == [("incomplete", [("kvm2", "kvm9")])]
    assert decoded == ["kvm2"]
