"""Per-path traces (format 2.0): marginfall.open_trace / list_traces and the anatomy figure,
on a file the engine writes here (tests/configs/small.yaml, path 0 listed, the 2 worst traced)."""
import h5py
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import marginfall as mf  # noqa: E402
from marginfall import plots  # noqa: E402
from conftest import run_engine  # noqa: E402


@pytest.fixture(scope="module")
def traced_file(tmp_path_factory):
    return run_engine("tests/configs/small.yaml", tmp_path_factory.mktemp("t") / "t.h5",
                      "output.traces=[0]", "output.traces_worst=2", "output.paths=true",
                      paths=16)


def _table(path):
    with h5py.File(path, "r") as f:
        t = f["point_0/paths"]
        return {k: t[k][()] for k in ("path_index", "liquidated_notional", "final_backlog")}


def test_worst_paths_are_the_largest_liquidations(traced_file):
    t = _table(traced_file)
    # largest liquidated notional first, ties to the lower path index
    order = sorted(range(len(t["path_index"])),
                   key=lambda i: (-t["liquidated_notional"][i], t["path_index"][i]))
    expected = [int(t["path_index"][i]) for i in order[:2]]
    df = mf.list_traces(traced_file)
    worst = df[df.worst_rank > 0].sort_values("worst_rank")
    assert worst.path_index.tolist() == expected
    assert worst.worst_rank.tolist() == [1, 2]
    listed = df[df.requested]
    assert 0 in listed.path_index.tolist()
    for rank, p in zip((1, 2), expected):
        assert mf.open_trace(traced_file, worst_rank=rank).attrs["path_index"] == p


def test_flows_match_the_path_row(traced_file):
    t = _table(traced_file)
    for p in mf.list_traces(traced_file).path_index:
        tr = mf.open_trace(traced_file, path_index=int(p))
        row = int(np.flatnonzero(t["path_index"] == p)[0])
        total = float(tr.liquidated_long.sum() + tr.liquidated_short.sum())
        assert total == pytest.approx(t["liquidated_notional"][row], rel=1e-9, abs=1e-6)
        assert float(tr.backlog[-1]) == pytest.approx(t["final_backlog"][row], rel=1e-9,
                                                      abs=1e-6)


def test_trace_layout(traced_file):
    tr = mf.open_trace(traced_file)
    assert list(tr.asset.values) == ["BTC", "ETH"]
    assert tr["index"].dims == ("asset", "time") and tr["mark"].dims == ("asset", "time")
    assert tr.sizes["time"] == tr.sizes["step_end"] + 1
    for v in ("liquidated_long", "liquidated_short", "backlog", "fund", "rounds"):
        assert tr[v].dims == ("step_end",)
        assert tr[v].attrs.get("units")
    assert tr.attrs["worst_rank"] == 1
    with mf.open_results(traced_file) as ds:
        assert ds.marginfall.traces(worst_rank=2).attrs["worst_rank"] == 2
        assert len(ds.marginfall.list_traces()) == len(mf.list_traces(traced_file))


def test_no_traces_is_a_clear_error(single_file):
    for call in (lambda: mf.open_trace(single_file), lambda: mf.list_traces(single_file)):
        with pytest.raises(mf.NoTracesError) as e:
            call()
        assert str(single_file) in str(e.value) and "output.traces_worst" in str(e.value)


def test_missing_rank_names_what_is_held(traced_file):
    with pytest.raises(mf.NoTracesError, match="worst rank 5"):
        mf.open_trace(traced_file, worst_rank=5)


def test_anatomy_figure(traced_file):
    fig = plots.cascade_anatomy(mf.open_trace(traced_file), asset="ETH")
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 4
    for ax in fig.axes:
        assert "(USD" in ax.get_ylabel()
    assert "hours" in fig.axes[-1].get_xlabel()
    matplotlib.pyplot.close(fig)
