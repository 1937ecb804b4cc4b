"""The capacity model (bench/capacity.py): its arithmetic, and the README section it generates."""

from __future__ import annotations

import pytest

from bench import capacity, report

ROWS = """<!-- bench:start -->
Run 2026-01-01 00:00 UTC on 2 cores, 8 GiB RAM, Python 3.11.7; took 5.0 min.

| # | what | how | target | measured | verdict |
|---|---|---|---|---|---|
| 5 | counter flush | x | x | 5.0 s (1,000,000 increments, 10 batches) | met |
| 1 | error ingestion | x | x | 500 req/s (12% of baseline); CPU per request: web 3.00 ms, postgres 0.50 ms, redis 0.10 ms | missed |
| 2 | recommendations | x | x | p50 ratio 1.05; CPU per big-learner request: web 2.00 ms, postgres 0.30 ms, redis 0.05 ms | met |
| 8 | storage | x | reported | utterance 200 B (10 rows), error 100 B (30 rows), dialog 300 B (5 rows) | n/a |
| 7 | websockets across nodes | x | x | node1: 1,000 clients, p50 90 ms, p99 200 ms, max 300 ms, 0 missed the final state, daphne 0.50 of a core, 10 µs CPU per frame (100,000 frames); node2: 1,000 clients, p50 95 ms, p99 240 ms, max 310 ms, 0 missed the final state, daphne 0.52 of a core, 12 µs CPU per frame (100,000 frames); answer POST p99 60 ms; CPU per answer (`next` + `answers`): web 6.00 ms, postgres 1.00 ms, redis 0.20 ms | met |

<!-- bench:rss {} -->
<!-- bench:end -->
"""  # noqa: E501


def test_measured_reads_each_figure_from_its_row():
    m = capacity.measured(ROWS)

    assert (m.ingest.row, m.ingest.web, m.ingest.postgres, m.ingest.redis) == ("1", 3.0, 0.5, 0.1)
    assert (m.recommend.row, m.recommend.web) == ("2", 2.0)
    assert (m.answer.row, m.answer.web, m.answer.postgres) == ("7", 6.0, 1.0)
    assert m.frame_us == 11.0
    assert (m.sockets_per_process, m.ws_p99_ms) == (1000, 240.0)
    assert m.flush_per_second == 200_000
    assert m.bytes_per == {"utterance": 200.0, "error": 100.0, "dialog": 300.0}


def test_peak_load_is_the_daily_volume_at_ten_times_the_mean():
    load = capacity.peak_load()

    assert load.utterances == pytest.approx(1_000_000 * 50 * 10 / 86_400)
    assert load.increments == pytest.approx(load.utterances * 3)
    assert load.answers == 1_000  # 10,000 players, one answer each per 10 s
    assert load.frames == 100 * 10 * 100  # 100 quizzes x 10 boards/s x 100 sockets


def test_cores_scale_each_cost_by_its_rate():
    m = capacity.measured(ROWS)
    load = capacity.peak_load()

    busy = capacity.cores(m, load)

    web = (3.0 * load.utterances + 2.0 * load.recommendations + 6.0 * load.answers) / 1000
    assert busy["web"] == pytest.approx(web)
    assert busy["ws"] == pytest.approx(load.frames * 11e-6)
    assert busy["flush"] == pytest.approx(load.increments / 200_000 * 2)


def test_a_collapsed_websocket_run_still_renders_with_an_unbounded_p99():
    collapsed = ROWS.replace("p50 95 ms, p99 240 ms", "p50 inf ms, p99 inf ms")

    m = capacity.measured(collapsed)

    assert m.ws_p99_ms == float("inf")
    assert "worst p99 there inf ms" in capacity.render(m)


def test_missing_cpu_figures_ask_for_a_bench_run():
    old = ROWS.replace("CPU per request: web 3.00 ms, postgres 0.50 ms, redis 0.10 ms", "")

    with pytest.raises(SystemExit, match="make bench"):
        capacity.measured(old)


def test_readme_section_is_what_the_latest_bench_results_give():
    expected = capacity.render(capacity.measured(capacity.RESULTS.read_text()))

    readme = capacity.README.read_text()

    assert expected in readme, "run `python -m bench.capacity --write` after `make bench`"
    assert report.table_rows(capacity.RESULTS.read_text()).keys() >= {"1", "2", "5", "7", "8"}
