"""--window's durations: seconds or with a unit, bounded; nan, inf and nonsense refused."""

import pytest
import typer
from cli_runs import migdoctor

from migdoctor.cli.options import duration


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("45m", 2700), ("2h", 7200), ("1.5H", 5400), ("1d", 86400)])
def test_durations(text, seconds):
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e400", "0.5", "-5", "8d", "", "m", "2 hours", "abc"])
def test_refused(text):
    with pytest.raises(typer.BadParameter):
        duration(text)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["check", "kvm1", "kvm2", "--window", "2h"], "migdoctor: --window schedules guests' migrations: add --guests"),
        (["check", "kvm1", "kvm2", "--parallel", "3"], "migdoctor: --parallel schedules guests' migrations"),
        (["evacuate", "kvm1", "kvm2", "--window", "nan"], "Invalid value for '--window': nan is not a duration"),
        (["evacuate", "kvm1", "kvm2", "--parallel", "0"], "Invalid value for '--parallel'"),
    ],
)
def test_bad_schedules_are_refused_before_any_host_is_reached(tmp_path, args, said):
    done = migdoctor(tmp_path, *args)
    assert done.returncode == 2
    assert said in done.stderr
    assert not (tmp_path / "reports").exists()
