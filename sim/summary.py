"""The plain-text summary `negotiate` prints: what a student reads first."""

from __future__ import annotations

from sim.results import RunSet, wilson

# columns that, when they take several values in one job, split its runs into groups
GROUPS = ("agenda_choice", "first_mover")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def summary_text(rs: RunSet) -> str:
    """Outcome, agreed terms with anchor labels, rounds, utilities against reservation values."""
    st = rs.static
    sc, ag = st.sc, st.ag
    t = rs.table
    keys = [c for c in GROUPS if c in t.columns and t[c].nunique() > 1]
    lines = [sc.title or sc.name, f"Agenda {ag.name}" + (" (the first of this job's groups):" if keys else ":")]
    lines += [f"  {d}" for d in ag.describe(sc)]
    rule = f" ({st.settings.rule} rule)" if st.settings.name == "mediated" else ""
    patience = sorted({int(p) for p in sc.patience[sc.principal]})
    lines.append(
        f"Protocol {st.settings.name}{rule}; principals' patience {'/'.join(map(str, patience))} rounds "
        f"per phase; observed for up to {st.settings.max_rounds} rounds"
    )
    if len(t) > 1:
        rate, lo, hi = rs.agreement_rate()
        k = int(t["agreement"].sum())
        lines.append("")
        if keys:
            lines += _groups(t, keys)
        lines.append(
            f"Runs: {len(t)} (seeds {int(t['seed'].min())}-{int(t['seed'].max())})"
            + (f", all {' and '.join(k.replace('_', ' ') + 's' for k in keys)} pooled" if keys else "")
        )
        lines.append(f"Agreement in {k} of {len(t)} runs: {_pct(rate)} (95% Wilson interval {_pct(lo)}-{_pct(hi)})")
        n_part = int((t["outcome"] == "partial").sum())
        n_brk = int((t["outcome"] == "breakdown").sum())
        why = t.loc[~t["agreement"], "status"].value_counts()
        lines.append(
            f"Partial agreement: {n_part}; breakdown: {n_brk}"
            + (f" (ended by: {', '.join(f'{k} {v}' for k, v in why.items())})" if len(why) else "")
        )
        s = rs.summary()
        if s["median_rounds_to_agreement"] is not None:
            lines.append(f"Median rounds to agreement: {s['median_rounds_to_agreement']:g}")
            lines.append("Mean agreed terms:")
            for i, iss in enumerate(sc.issues):
                v = s["mean_terms"][iss]
                lines.append(f"  {iss:<13} {v:5.2f}  {sc.anchor_label(i, v)}")
        from sim.baselines import of_scenario

        base = of_scenario(sc)
        lines.append(
            "Baselines at the stated positions (capability x salience weighted mean / median) "
            "against the mean agreed term:"
        )
        for iss in sc.issues:
            m = s["mean_terms"].get(iss)
            lines.append(
                f"  {iss:<13} {base[iss]['weighted_mean']:5.2f} / {base[iss]['weighted_median']:4.2f}"
                + (f"   model {m:4.2f}" if m is not None and m == m else "")
            )
        if s["blocking_issues"]:
            top, n = next(iter(s["blocking_issues"].items()))
            lines.append(f"Issue blocking most often when talks failed: {top} ({n} runs)")
        lines.append("")
        lines.append(f"First run (seed {int(t['seed'].iloc[0])}):")
    lines += _one(rs, 0)
    calib = (rs.config or {}).get("calibration")
    if calib and "point" in t.columns:
        from sim.forecast import summarise, text

        lines.append("")
        which = (
            "nearest parameter sets" if (rs.config or {}).get("calibration_set") == "nearest" else "kept parameter sets"
        )
        lines += text(summarise(t, ag.n_phases, (rs.config or {}).get("forecast_horizon")), calib, ag.name, which)
    lines.append("")
    lines.append(f"Inputs tagged J in {sc.file} are judgements, not facts; Q and S are sourced.")
    return "\n".join(lines)


def _groups(t, keys: list[str]) -> list[str]:
    """One line per group of runs (agenda choice, first mover): size, agreement rate, rounds."""
    out = [f"By {' and '.join(k.replace('_', ' ') for k in keys)}:"]
    for name, g in t.groupby(keys, sort=False):
        label = " / ".join(str(v) for v in (name if isinstance(name, tuple) else (name,)))
        k, n = int(g["agreement"].sum()), len(g)
        lo, hi = wilson(k, n)
        med = g.loc[g["agreement"], "rounds"].median() if k else None
        out.append(
            f"  {label:<34} {n:>6} runs  agreement {_pct(k / n):>6} ({_pct(lo)}-{_pct(hi)})"
            + (f"  median rounds {med:g}" if med is not None else "")
        )
    out.append("")
    return out


def _one(rs: RunSet, row: int) -> list[str]:
    st = rs.static
    sc = st.sc
    rec = rs.record(row)
    out = [""]
    n_ph = rec["n_phases"]
    if rec["agreement"]:
        out.append(f"Outcome: AGREEMENT after {rec['rounds']} rounds (all {n_ph} phase(s) agreed)")
    elif rec["phases_agreed"]:
        out.append(
            f"Outcome: PARTIAL AGREEMENT, phases {rec['phases_agreed']} of {n_ph} agreed, "
            f"then breakdown after {rec['rounds']} rounds: {rec['breakdown_reason']}"
        )
    else:
        out.append(f"Outcome: BREAKDOWN after {rec['rounds']} rounds: {rec['breakdown_reason']}")
    if rec["blocking_issue"]:
        out.append(f"Issue blocking the last phase: {rec['blocking_issue']}")
    if rec["terms"]:
        out.append(
            "Agreed terms (scale 0 to 1, nearest anchor; baselines: capability x salience "
            "weighted mean / median of positions):"
        )
        base = rec.get("baselines", {})
        for iss, term in rec["terms"].items():
            b = base.get(iss)
            extra = f"   baselines {b['weighted_mean']:.2f} / {b['weighted_median']:.2f}" if b else ""
            out.append(f"  {iss:<13} {term['value']:5.2f}  {term['label']}{extra}")
    out.append("Utility of the outcome against reservation value:")
    roles = sc.graph().nodes
    order = sorted(range(sc.n_actors), key=lambda a: not sc.principal[a])
    for a in order:
        name = sc.actors[a]
        u = rec["expected_utilities"][name]
        rv = rec["reservation_values"][name]
        role = "/".join(roles[name]["roles"])
        out.append(f"  {sc.labels[a]:<15} {role:<20} {u:5.2f}  reservation {rv:4.2f}  surplus {u - rv:+.2f}")
    if rec["agreement"]:
        nbs = rec["nbs_distance"]
        out.append(
            f"Nash product {rec['nash_product']:.4f}; distance from the Nash bargaining solution "
            f"{nbs:.3f}; Pareto-efficient: {'yes' if rec['pareto_efficient'] else 'no'}"
        )
    return out
