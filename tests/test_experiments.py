"""The experiments run from their folders, show the effects they report and reproduce their committed outputs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_commitment_problem_costs_the_phased_plan_more_than_the_package():
    mod = load(ROOT / "experiments" / "agenda_mechanisms" / "analyze.py")
    df = mod.ablation_table(
        400,
        agendas={k: mod.AGENDAS[k] for k in ("comprehensive", "phased_plan")},
        ablations={k: mod.ABLATIONS[k] for k in ("full model", "no commitment problem")},
    )
    rate = df.set_index(["ablation", "agenda"])["agreement_rate"]
    gain_phased = rate["no commitment problem", "phased_plan"] - rate["full model", "phased_plan"]
    gain_package = rate["no commitment problem", "comprehensive"] - rate["full model", "comprehensive"]
    # the same seeds under both: the paired difference is far less noisy than either rate
    assert gain_phased > 0.04
    assert abs(gain_package) < 0.02
    assert set(df.columns) >= {"agreement_rate", "low", "high", "partial", "top_blocking_issue"}


@pytest.mark.slow
def test_no_constant_moves_an_agreement_rate_by_more_than_the_tolerance():
    """experiments/robustness: step sizes, steps per round, the stalemate rule's constants
    halved and doubled, and the window at 4x the horizon, on every default agenda."""
    mod = load(ROOT / "experiments" / "robustness" / "analyze.py")
    conf = mod.load()
    df = mod.table(conf, conf["n_seeds"], conf["agendas"])
    assert len(df) == len(conf["agendas"]) * (1 + 10)  # the default and ten variations each
    worst = df.loc[df["change"].abs().idxmax()]
    assert abs(worst["change"]) <= conf["tolerance"], worst.to_dict()
    # and the committed outputs are this run's, in the script's format
    import pandas as pd

    here = ROOT / "experiments" / "robustness"
    pd.testing.assert_frame_equal(df.reset_index(drop=True), pd.read_parquet(here / "robustness.parquet"))
    assert (here / "robustness.md").read_text() == mod.markdown(df, conf["tolerance"], conf["n_seeds"])


# --------------------------------------------------------------------------- committed outputs


def _ablation():
    return load(ROOT / "experiments" / "agenda_mechanisms" / "analyze.py")


def _robustness():
    return load(ROOT / "experiments" / "robustness" / "analyze.py")


def test_ablation_md_is_what_the_script_writes_from_its_committed_table():
    import pandas as pd

    mod, here = _ablation(), ROOT / "experiments" / "agenda_mechanisms"
    df = pd.read_parquet(here / "ablation.parquet")
    text = mod.markdown(df, 1000)
    assert (here / "ablation.md").read_text() == text
    # the experiment's README shows the same rates, rounded the same way
    rates = text.split("\n\n")[1]
    assert rates.startswith("| ablation ") and rates in (here / "README.md").read_text()
    # numpy's rounding, halves to even, as the committed file has it: 0.885 -> 0.88
    assert "|          0.88 |" in text and df["agreement_rate"].round(3).eq(0.885).any()


def test_a_part_of_the_ablation_reproduces_its_committed_rows():
    import pandas as pd

    mod = _ablation()
    committed = pd.read_parquet(ROOT / "experiments" / "agenda_mechanisms" / "ablation.parquet")
    ablations = ("full model", "no red lines")
    df = mod.ablation_table(
        1000, agendas={"phased_plan": mod.AGENDAS["phased_plan"]}, ablations={k: mod.ABLATIONS[k] for k in ablations}
    )
    want = committed[committed["ablation"].isin(ablations) & (committed["agenda"] == "phased_plan")]
    pd.testing.assert_frame_equal(df.reset_index(drop=True), want.reset_index(drop=True))


def test_robustness_md_and_the_readme_table_come_from_the_committed_table():
    import pandas as pd

    mod, here = _robustness(), ROOT / "experiments" / "robustness"
    conf = mod.load()
    df = pd.read_parquet(here / "robustness.parquet")
    assert (here / "robustness.md").read_text() == mod.markdown(df, conf["tolerance"], conf["n_seeds"])
    assert mod.summary(df) in (here / "README.md").read_text()


def test_a_part_of_robustness_reproduces_its_committed_rows():
    import pandas as pd

    mod = _robustness()
    conf = mod.load()
    part = {**conf, "variations": {"step0": conf["variations"]["step0"]}}
    df = mod.table(part, conf["n_seeds"], ["phased_plan"])
    committed = pd.read_parquet(ROOT / "experiments" / "robustness" / "robustness.parquet")
    want = committed[(committed["agenda"] == "phased_plan") & committed["constant"].isin(["default", "step0"])]
    assert len(df) == 3
    pd.testing.assert_frame_equal(df.reset_index(drop=True), want.reset_index(drop=True))


@pytest.mark.slow
def test_the_ablation_script_reproduces_both_committed_files(capsys):
    assert _ablation().main(["--check"]) == 0
    assert "ablation.parquet reproduced, ablation.md reproduced" in capsys.readouterr().out


def test_the_atlas_script_writes_its_figures_from_a_small_atlas(tmp_path, capsys, monkeypatch):
    from PIL import Image

    from sim.classroom import small_atlas

    monkeypatch.setenv("CI", "1")
    root = small_atlas(tmp_path / "sweep", agendas=("comprehensive", "order_00"), n_seeds=6)
    mod = load(ROOT / "experiments" / "sequence_atlas" / "analyze.py")
    mod.main([str(root), "--out", str(tmp_path / "figures")])
    out = capsys.readouterr().out
    assert "4 sequences" in out and "Best cells" in out
    for name in ("heatmap", "ranking", "terms"):
        png, svg = tmp_path / "figures" / f"{name}.png", tmp_path / "figures" / f"{name}.svg"
        assert svg.read_text().count("<svg") == 1
        w, h = Image.open(png).size
        assert w >= 600 and h >= 300  # saved at 150 dpi: the size the labels' 8 pt refer to
    # the summary the experiment's README quotes, from the same ranking
    from sim.report import load as load_atlas
    from sim.report import rank

    md = (tmp_path / "figures" / "results.md").read_text()
    best = rank(load_atlas(root)).iloc[0]
    assert f"| 1 | {best['sequence']} | {best['rate']:.3f} [{best['low']:.3f}, {best['high']:.3f}] |" in md
    assert "of the 4 sequences never agreed" in md and "Pooled over sequences" in md


def test_the_calibration_tables_are_what_negotiate_calibrate_writes_from_its_committed_samples():
    """experiments/calibration/earlier_rounds: the Markdown and Parquet summaries, recomputed from
    the committed samples.parquet by the same functions negotiate-calibrate uses (the 2.4 million
    runs themselves take 485 s and are not rerun here)."""
    import pandas as pd

    from sim import calibrate as c

    out = ROOT / "experiments" / "calibration" / "earlier_rounds"
    cal = c.load("earlier_rounds")
    df = pd.read_parquet(out / "samples.parquet")
    df["targets_met"] = (df[[f"{t['name']}__I" for t in cal.targets]] <= cal.cutoff).sum(axis=1)
    assert (out / "conflicts.md").read_text() == c.conflicts_markdown(cal, df, cal.cutoff)
    table = c.target_table(cal, df, cal.cutoff)
    pd.testing.assert_frame_equal(table, pd.read_parquet(out / "targets.parquet"))
    assert (out / "targets.md").read_text() == c.target_markdown(cal, table, df, cal.cutoff)
    loo = c.leave_one_out(cal, df, cal.cutoff)
    pd.testing.assert_frame_equal(loo, pd.read_parquet(out / "leave_one_out.parquet"))
    assert (out / "leave_one_out.md").read_text() == c.leave_one_out_markdown(loo)


@pytest.mark.slow
def test_the_forecast_comparison_reproduces_its_committed_tables(capsys):
    """The README's "who forecasts better" tables come from this script and its committed comparison.md."""
    mod = load(ROOT / "experiments" / "forecast_comparison" / "analyze.py")
    assert mod.main(["--check"]) == 0
    assert "reproduces comparison.md" in capsys.readouterr().out
    readme = (ROOT / "README.md").read_text()
    committed = (ROOT / "experiments" / "forecast_comparison" / "comparison.md").read_text()
    for row in ("| Bueno de Mesquita 1994, published | 9.05 | +0.22 |", "| weighted mean | 7.39 | -1.44 |"):
        assert row in committed
    assert "| **targets held, of 9** | | **4** | **4** | **6** | **2** |" in readme
    assert "| **targets held** | of 9 | **4** | **4** | **6** | **2** |" in committed
