"""negotiate-explore: Morris, Sobol and PRIM through the same code path as the command.

The sensitivity code is checked on models with known answers: the Ishigami function
(analytic Sobol indices) and a linear model (known elementary effects), each standing in
for ``run_design`` as a runner that returns one row per run, so the reduction over seeds is
exercised too. Then a real scenario built so that one input alone decides agreement: the
symmetric scenario, where principal A's value of no deal above about 0.77 leaves no text
both sides accept, while the mediator's ideal point and the guarantors' credibility (there
is no guarantee issue) change nothing.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami

from sim import explore as ex
from sim.api import load_config
from sim.errors import ConfigError

RV = "scenario.actors.A.reservation_value"
MEDIATOR = "scenario.actors.M.position.x"
CRED = "conditions.credibility"


def seeds_runner(f, columns):
    """A runner whose per-run value is f(x) plus a seed term that averages to zero over seeds."""

    def run(design: pd.DataFrame, n_seeds: int) -> pd.DataFrame:
        y = f(design[columns].to_numpy(dtype=float))
        seed = np.tile(np.arange(n_seeds), len(design))
        noise = (seed - (n_seeds - 1) / 2.0) * 0.37
        return pd.DataFrame(
            {"point": np.repeat(np.arange(len(design)), n_seeds), "seed": seed, "y": np.repeat(y, n_seeds) + noise}
        )

    return run


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total Sobol indices of the Ishigami function on [-pi, pi]^3."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_sobol_recovers_the_ishigami_indices_through_the_reduction():
    inputs = pd.DataFrame({"path": ["x1", "x2", "x3"], "low": -math.pi, "high": math.pi, "integer": False})
    s1, st = ishigami_indices()
    run = seeds_runner(Ishigami.evaluate, ["x1", "x2", "x3"])
    t = ex.sobol(None, inputs, ["y"], n_base=2048, n_seeds=3, runner=run)
    t = t.set_index("input").loc[["x1", "x2", "x3"]]
    assert t["S1"].to_numpy() == pytest.approx(s1, abs=0.05)
    assert t["ST"].to_numpy() == pytest.approx(st, abs=0.05)
    assert (t["S1_conf"] > 0).all() and (t["ST_conf"] < 0.1).all()
    assert set(t["n_points"]) == {2048 * 5} and set(t["n_runs"]) == {2048 * 5 * 3}
    # Morris on the same function: x3 matters only through x1 (mu near 0, mu* and sigma not)
    m = ex.morris(None, inputs, ["y"], n_trajectories=60, n_seeds=2, runner=run).set_index("input")
    assert m.loc["x3", "sigma"] > 1 and m.loc["x3", "mu_star"] > 1
    assert m.loc["x2", "mu"] == pytest.approx(0.0, abs=m.loc["x2", "mu_star"] * 0.5)  # sin^2: effects of both signs


def test_morris_gives_the_elementary_effects_of_a_linear_model_per_unit_of_range():
    inputs = pd.DataFrame({"path": ["a", "b", "c"], "low": [0.0, 0.0, -5.0], "high": [1.0, 2.0, 5.0], "integer": False})
    m = ex.morris(
        None,
        inputs,
        ["y"],
        n_trajectories=8,
        n_seeds=4,
        runner=seeds_runner(lambda x: 2 * x[:, 0] - 3 * x[:, 1] + 0 * x[:, 2], ["a", "b", "c"]),
    )
    m = m.set_index("input")
    assert m.loc["a", "mu_star"] == pytest.approx(2.0) and m.loc["a", "mu"] == pytest.approx(2.0)
    assert m.loc["b", "mu_star"] == pytest.approx(6.0) and m.loc["b", "mu"] == pytest.approx(-6.0)
    assert m.loc["c", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert m["sigma"].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert list(m.index) == ["b", "a", "c"]  # ranked by mu*
    # grouped: one index per group, members listed
    inputs["group"] = ["ab", "ab", "c"]
    g = ex.morris(
        None,
        inputs,
        ["y"],
        n_trajectories=8,
        n_seeds=1,
        groups="group",
        runner=seeds_runner(lambda x: 2 * x[:, 0] + 3 * x[:, 1], ["a", "b", "c"]),
    )
    assert set(g["input"]) == {"ab", "c"} and set(g["kind"]) == {"group"}
    assert g.set_index("input").loc["ab", "members"] == "a,b"
    assert g.set_index("input").loc["c", "mu_star"] == pytest.approx(0.0, abs=1e-12)


def test_designs_round_integer_inputs_and_leave_out_inputs_without_a_range():
    inputs = pd.DataFrame(
        {"path": ["p", "q", "r"], "low": [15, 0.2, 0.0], "high": [60, 0.8, 0.0], "integer": [True, False, False]}
    )
    ok, dropped = ex.usable_inputs(inputs)
    assert dropped == ["r"] and list(ok["path"]) == ["p", "q"]
    d = ex.to_design(np.array([[15.4, 0.3], [59.6, 0.7]]), ok)
    assert d["p"].dtype.kind == "i" and list(d["p"]) == [15, 60] and list(d["q"]) == [0.3, 0.7]
    with pytest.raises(ConfigError, match="low <= high"):
        ex.usable_inputs(pd.DataFrame({"path": ["p"], "low": [1.0], "high": [0.0]}))


def test_point_outcomes_reduce_runs_to_rates_means_and_terms_of_agreed_runs():
    table = pd.DataFrame(
        {
            "point": [0, 0, 0, 0, 1, 1],
            "seed": [0, 1, 2, 3, 0, 1],
            "agreement": [True, True, False, False, False, False],
            "status": ["agreement", "agreement", "shock", "stalemate", "stalemate", "walkout"],
            "phases_agreed": [2, 2, 1, 0, 0, 0],
            "rounds": [10, 20, 30, 40, 5, 7],
            "term_x": [0.2, 0.4, np.nan, np.nan, np.nan, np.nan],
        }
    )
    p = ex.point_outcomes(table, ["agreement", "phase1", "phase2", "rounds", "term_x", "stalemate", "shock"])
    assert p.loc[0].to_dict() == pytest.approx(
        {
            "n_runs": 4,
            "agreement": 0.5,
            "phase1": 0.75,
            "phase2": 0.5,
            "rounds": 25.0,
            "term_x": 0.3,
            "stalemate": 0.25,
            "shock": 0.25,
        }
    )
    assert p.loc[1, "agreement"] == 0 and p.loc[1, "stalemate"] == 0.5 and np.isnan(p.loc[1, "term_x"])
    with pytest.raises(ConfigError, match="phase<k>"):
        ex.point_outcomes(table, ["nonsense"])


def test_prim_finds_a_box_on_an_integer_input_and_says_it_in_words():
    rng = np.random.default_rng(1)
    n = 600
    pts = pd.DataFrame({"patience": rng.integers(15, 61, n), "noise": rng.uniform(0, 1, n)})
    pts["rate"] = np.where(pts["patience"] <= 30, 0.9, 0.1)
    r = ex.prim_boxes(pts, ["patience", "noise"], "rate", threshold=0.5)
    box = r.box.set_index("input")
    assert box.loc["patience", "restricted"] and not box.loc["noise", "restricted"]
    assert 30 <= box.loc["patience", "upper"] < 31 and r.density == 1.0 and r.coverage >= 0.9
    assert "patience is at most 30" in r.words and "likely" in r.words
    assert r.trajectory["chosen"].sum() == 1 and (np.diff(r.trajectory["density"]) >= -1e-12).all()
    below = ex.prim_boxes(pts, ["patience", "noise"], "rate", threshold=0.5, above=False)
    low = below.box.set_index("input").loc["patience", "lower"]
    assert 30 < low <= 33 and f"patience is at least {math.ceil(low)}" in below.words and below.density == 1.0
    none = ex.prim_boxes(pts.assign(rate=0.0), ["patience", "noise"], "rate")
    assert none.n_interest == 0 and "at no point" in none.words
    with pytest.raises(ConfigError, match="a column of the points"):
        ex.prim_boxes(pts, ["missing"], "rate")


@pytest.fixture(scope="module")
def symmetric():
    cfg = load_config(["scenario=symmetric"])
    inputs = pd.DataFrame(
        {"path": [RV, MEDIATOR, CRED], "low": [0.3, 0.0, 0.0], "high": [1.0, 1.0, 1.0], "integer": False}
    )
    return cfg, inputs


def test_one_input_alone_decides_agreement_in_the_symmetric_scenario(symmetric):
    cfg, inputs = symmetric
    m, points = ex.morris(
        cfg, inputs, ["agreement", "rounds", "term_x"], n_trajectories=10, n_seeds=3, progress=False, return_points=True
    )
    a = m[m["outcome"] == "agreement"].set_index("input")
    assert a.index[0] == RV and a.loc[RV, "mu_star"] > 0.3 and a.loc[RV, "mu"] < 0  # a higher value of no deal hurts
    assert a.loc[[MEDIATOR, CRED], "mu_star"].max() < 0.01
    assert len(points) == 40 and set(points["n_runs"]) == {3}
    # a term is undefined where no seed agreed: those points are counted and filled, not dropped
    term = m[m["outcome"] == "term_x"]
    assert term["n_missing"].iloc[0] == points["term_x"].isna().sum() > 0 and term["mu_star"].notna().all()
    s = ex.sobol(cfg, inputs, ["agreement"], n_base=64, n_seeds=2, progress=False).set_index("input")
    assert s.index[0] == RV and s.loc[RV, "ST"] > 0.8 and s.loc[RV, "S1"] > 0.7
    assert s.loc[[MEDIATOR, CRED], "ST"].abs().max() < 0.02
    pts = ex.latin(cfg, inputs, ["agreement"], n_samples=200, n_seeds=2, progress=False)
    r = ex.prim_boxes(pts, inputs["path"], "agreement")
    box = r.box.set_index("input")
    assert box.loc[RV, "restricted"] and not box.loc[[MEDIATOR, CRED], "restricted"].any()
    assert box.loc[RV, "lower"] == pytest.approx(pts[RV].min()) and 0.6 < box.loc[RV, "upper"] < 0.85
    assert f"{RV} is below" in r.words and r.density > 0.9 and r.coverage > 0.8


def test_figures_and_report_are_written_and_readable(symmetric, tmp_path):
    cfg, inputs = symmetric
    m = ex.morris(cfg, inputs, ["agreement"], n_trajectories=4, n_seeds=2, progress=False)
    s = ex.sobol(cfg, inputs, ["agreement"], n_base=8, n_seeds=2, progress=False)
    r = ex.prim_boxes(
        ex.latin(cfg, inputs, ["agreement"], n_samples=60, n_seeds=2, progress=False), inputs["path"], "agreement"
    )
    for fig in (ex.plot_morris(m), ex.plot_sobol(s), ex.plot_prim_tradeoff(r)):
        fig.canvas.draw() if hasattr(fig.canvas, "draw") else None
        sizes = [
            t.get_fontsize()
            for t in fig.findobj(lambda o: hasattr(o, "get_fontsize") and hasattr(o, "get_text"))
            if t.get_text()
        ]
        assert sizes and min(sizes) >= 8
    path = ex.report(tmp_path, morris_table=m, sobol_table=s, prim_result=r, meta={"morris": {"command": "x"}})
    text = path.read_text()
    for heading in ("## Morris screen", "## Sobol indices", "## Scenario discovery (PRIM)"):
        assert heading in text
    for f in (
        "morris.parquet",
        "sobol.parquet",
        "prim_box.parquet",
        "prim_trajectory.parquet",
        "figures/morris_agreement.png",
        "figures/sobol_agreement.svg",
        "figures/prim_agreement.png",
    ):
        assert (tmp_path / f).is_file(), f
    back = pd.read_parquet(tmp_path / "morris.parquet")
    assert list(back.columns[:6]) == ["input", "outcome", "mu", "mu_star", "mu_star_conf", "sigma"]


def test_top_inputs_of_a_screen_and_parsed_inputs():
    known = pd.DataFrame(
        {"path": ["a", "b", "conditions.pressure"], "low": 0.0, "high": 1.0, "integer": False, "group": ["g", "g", "h"]}
    )
    screen = pd.DataFrame(
        {
            "input": ["b", "a", "conditions.pressure"],
            "outcome": "agreement",
            "mu_star": [3.0, 2.0, 1.0],
            "kind": "input",
            "members": ["b", "a", "conditions.pressure"],
        }
    )
    top, groups = ex.top_inputs(screen, known, 2)
    assert list(top["path"]) == ["b", "a"] and groups is None
    top, _ = ex.top_inputs(screen, known, 1, per_run_only=True)  # conditions are per run, a and b are not
    assert list(top["path"]) == ["conditions.pressure"]
    p = ex.parse_inputs(["a", "scenario.actors.X.patience:10:40"], known)
    assert list(p["low"]) == [0.0, 10.0] and list(p["integer"]) == [False, True]
    with pytest.raises(ConfigError, match="PATH:LOW:HIGH"):
        ex.parse_inputs(["zzz"], known)


def test_command_errors_are_one_line(tmp_path, capsys):
    assert ex.main(["morris", "--out", str(tmp_path), "scenario.nope=1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("negotiate-explore: error:") and "scenario.nope" in err[0]
    assert ex.main(["sobol", "--scenario", "symmetric", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "negotiate-explore: error:" in err and "morris" in err
    assert ex.main(["morris", "--scenario", "symmetric", "--outcomes", "agrement", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "agrement" in err and "term_<issue> (x, y)" in err and not (tmp_path / "morris.parquet").exists()
    assert ex.main(["morris", "--scenario", "symmetric", "--out", str(tmp_path)]) == 2
    assert "has no numbers tagged J; give --inputs" in capsys.readouterr().err


def explore_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "negotiate-explore"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sim.explore"]


def test_the_command_runs_end_to_end(tmp_path):
    env = dict(os.environ, CI="1", MPLBACKEND="Agg")
    out = tmp_path / "explore"
    common = ["--scenario", "symmetric", "--n-seeds", "2", "--out", str(out)]
    steps = [
        ["morris", "--inputs", f"{RV}:0.3:1.0,{MEDIATOR}:0:1", "--add", f"{CRED}:0:1", "--trajectories", "4"],
        ["sobol", "--top", "2", "--n-base", "8"],
        ["prim", "--top", "2", "--samples", "60", "--outcome", "agreement"],
    ]
    for step in steps:
        done = subprocess.run(
            explore_cmd() + step + common, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "runs in" in done.stderr and "Wrote" in done.stderr
    assert f"{RV} is below" in done.stdout
    text = (out / "report.md").read_text()
    assert "## Morris screen" in text and "## Sobol indices" in text and "## Scenario discovery (PRIM)" in text
    assert {p.name for p in (out / "figures").iterdir()} >= {
        "morris_agreement.png",
        "sobol_agreement.svg",
        "prim_agreement.png",
    }
    assert list(pd.read_parquet(out / "sobol.parquet")["input"].unique()[:1]) == [RV]
