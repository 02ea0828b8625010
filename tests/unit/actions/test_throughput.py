"""The test migration's throughput series: the samples the report's chart is drawn from."""

from migdoctor.actions.migration import throughput_series


def polls(count: int, bytes_per_poll: int = 1_250_000) -> list[dict]:
    """COUNT polls 0.1 s apart; libvirt reports no data_processed before the stream starts."""
    samples = [{"wall_s": 0.05, "time_elapsed": 5}]
    samples += [{"wall_s": round(0.1 * (i + 1), 3), "data_processed": bytes_per_poll * i} for i in range(count)]
    return samples


def test_each_point_carries_the_rate_since_the_previous_one():
    series = throughput_series(polls(4))

    assert [point["wall_s"] for point in series] == [0.1, 0.2, 0.3, 0.4]
    assert [point["mbps"] for point in series] == [None, 100.0, 100.0, 100.0]
    assert series[-1]["data_processed"] == 3_750_000


def test_a_long_migration_is_thinned_evenly_and_keeps_its_last_point():
    series = throughput_series(polls(36_001), most=300)

    assert len(series) <= 301
    assert series[0]["wall_s"] == 0.1 and series[-1]["wall_s"] == 3600.1
    assert {point["mbps"] for point in series[1:-1]} == {100.0}


def test_no_stream_no_series():
    assert throughput_series([{"wall_s": 0.1, "time_elapsed": 100}]) == []
