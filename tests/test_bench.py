"""The benchmarks in bench/: the harness's timing rules, and every benchmark's quick mode.

The quick mode (tiny shapes, 2 rounds, one thread) runs every benchmark once, in this
process, through bench/run_all.py, so that none of them rots; its numbers are checked for
being times and ratios, not for their values.
"""
import math

import numpy as np
import pytest

from bench import harness, run_all
from bench.harness import Row, Timing

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Every benchmark's quick mode, on one thread; returns (tables by module, report text)."""
    out = tmp_path_factory.mktemp("bench") / "BENCHMARKS.md"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENCH_THREADS", "1")
        tables = run_all.main(["--quick", "--out", str(out)])
    return dict(zip(run_all.BENCHMARKS, tables, strict=True)), out.read_text()


def _positive_time(timing: Timing) -> bool:
    return all(math.isfinite(t) and t > 0 for t in timing.times)


@pytest.mark.parametrize("name", run_all.BENCHMARKS)
def test_quick_mode_gives_rows_with_times_and_ratios(quick_run, name):
    table = quick_run[0][name]
    assert table.rows, f"bench/{name}.py returned no rows"
    for row in table.rows:
        assert len(row.ours.times) >= harness.QUICK_REPEATS and _positive_time(row.ours), row.what
        if row.ref is not None:
            assert _positive_time(row.ref) and math.isfinite(row.ratio) and row.ratio > 0, row.what
        if row.flops is not None:
            assert math.isfinite(row.gflops) and row.gflops > 0, row.what
            assert row.pct_gemm is not None and row.pct_gemm > 0, row.what
        if row.bar_max is not None:
            assert row.met in (True, False), row.what


def test_every_bar_of_the_issue_has_a_row(quick_run):
    tables = quick_run[0]
    bars = {name: [row.bar for row in t.rows if row.bar_max is not None]
            for name, t in tables.items()}
    assert len(bars["conv"]) == 4          # two conv shapes, pool fwd+bwd, pool backward alone
    assert bars["knn"] == [">= 85% of the dgemm rate"]
    assert bars["fc_net"] == ["<= 1.5x torch"]
    assert bars["features"] == [">= 20x faster"]
    assert bars["deepconvnet"] == []       # its wall time is recorded, no bar


def test_report_has_machine_bars_every_table_and_the_notes(quick_run):
    tables, text = quick_run
    assert text.startswith("# Benchmarks\n\nQUICK MODE")
    assert "## Machine" in text and "## Bars" in text and "GEMM rates" in text
    for table in tables.values():
        assert f"## {table.title}" in text
    assert run_all.NOTES.read_text().strip() in text


def test_interleaved_runs_round_robin_after_warmup():
    calls = []
    impls = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    timings = harness.interleaved(impls, repeats=3, warmup=1)
    assert calls == list("abc") * 4
    assert {name: len(t.times) for name, t in timings.items()} == {"a": 3, "b": 3, "c": 3}


def test_phased_implementations_keep_each_phase_and_their_sum():
    impl = harness.phased(("fwd", lambda: None), ("bwd", lambda: sum(range(1000))))
    t = harness.interleaved({"x": impl}, repeats=4)["x"]
    assert set(t.phases) == {"fwd", "bwd"}
    for i in range(4):
        assert t.times[i] == pytest.approx(t.phase("fwd").times[i] + t.phase("bwd").times[i])


def test_a_returned_dict_is_not_taken_for_phases():
    t = harness.interleaved({"x": lambda: {"loss": 1.0}}, repeats=2, warmup=0)["x"]
    assert t.phases == {} and len(t.times) == 2


def test_timing_statistics_and_scaling():
    t = Timing([3.0, 1.0, 2.0, 4.0, 2.0])
    assert (t.min, t.median, t.spread) == (1.0, 2.0, 2.0)
    assert harness.scaled(t, 10).times == [30.0, 10.0, 20.0, 40.0, 20.0]


def test_row_ratio_rates_and_bar():
    ours, ref = Timing([2.0, 3.0]), Timing([1.0, 5.0])
    row = Row("x", "s", ours, "r", ref, flops=4e9, gemm_rate=4.0, bar="<= 1.5x", bar_max=1.5)
    assert row.ratio == 2.0 and row.gflops == 2.0 and row.pct_gemm == 50.0 and row.met is False
    assert Row("x", "s", ours).met is None
    assert harness.format_ratio(0.5) == "0.50x" and harness.format_ratio(1 / 590) == "1/590x"


def test_a_full_run_needs_15_repeats():
    assert harness.parse_args("d", []).repeats == harness.MIN_REPEATS
    assert harness.parse_args("d", ["--quick"]).repeats == harness.QUICK_REPEATS
    with pytest.raises(SystemExit):
        harness.parse_args("d", ["--repeats", "5"])


def test_threads_restores_torch_threads(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setenv("BENCH_THREADS", "1")
    with harness.threads() as (n, _):
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_gemm_yardstick_computes_a_product():
    run = harness.gemm(np.float64, 8)
    assert run() is None
    rates = harness.gemm_rates(32, repeats=2)
    assert set(rates) == {"float32", "float64"} and all(r > 0 for r in rates.values())


def test_write_atomically_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "B.md"
    path.write_text("old")
    run_all.write_atomically(path, "new\n")
    assert path.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == ["B.md"]
