"""--window's durations: seconds or with a unit, bounded; nan, inf and nonsense refused."""

import pytest
import typer

from migdoctor.cli.options import duration


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("45m", 2700), ("2h", 7200), ("1.5H", 5400), ("1d", 86400)])
def test_durations(text, seconds):
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e400", "0.5", "-5", "8d", "", "m", "2 hours", "abc"])
def test_refused(text):
    with pytest.raises(typer.BadParameter):
        duration(text)
