"""/etc/os-release, on Debian 12's file and shell-quoting variants."""

from pathlib import Path

import pytest

from migdoctor.parsers import ParseError
from migdoctor.parsers.os_release import parse_os_release

DATA = Path(__file__).parents[2] / "data" / "parsers"


def test_debian_12():
    values = parse_os_release((DATA / "os-release").read_text())
    assert values["ID"] == "debian"
    assert values["VERSION_ID"] == "12"
    assert values["VERSION"] == "12 (bookworm)"
    assert values["PRETTY_NAME"] == "Debian GNU/Linux 12 (bookworm)"
    assert len(values) == 9


def test_shell_quoting():
    text = (
        "# comment\n\n"
        "NAME='SLES'\n"
        'VARIANT="Server \\"HA\\" \\$1"\n'
        "ID=sles\n"
        'ANSI_COLOR="0;32"\n'
        "ID_LIKE=\n"
        "ID=suse\n"
        "CPE_NAME='a\\b'\n"
        "LOGO=distro\\ logo\n"
    )
    assert parse_os_release(text) == {
        "NAME": "SLES",
        "VARIANT": 'Server "HA" $1',
        "ID": "suse",
        "ANSI_COLOR": "0;32",
        "ID_LIKE": "",
        "CPE_NAME": "a\\b",
        "LOGO": "distro logo",
    }


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('ID=debian\nNAME="Debian\n', 2, "unterminated quoting"),
        ("ID=debian\n\nexport ID\n", 3, "expecting NAME=value"),
        ("NAME=Debian GNU/Linux\n", 1, "a value with spaces must be quoted"),
    ],
)
def test_errors(text, line, message):
    with pytest.raises(ParseError) as caught:
        parse_os_release(text, "/etc/os-release")
    assert (caught.value.line, caught.value.message) == (line, message)
