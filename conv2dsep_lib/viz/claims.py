"""Figures of a claims study (:class:`~conv2dsep_lib.results.claims.ClaimsReport`). ORACLE."""

from __future__ import annotations

from typing import Optional

import numpy as np
from matplotlib.figure import Figure

from ..results.claims import QUALITY_RANGE, ClaimsReport, KCurve
from .common import DB2, ORACLE, legend_outside, nan_array, no_data, plain_log_axis

__all__ = ["plot_claims_curves", "plot_claims_intervals", "VERDICT_COLORS"]

#: Colour of each verdict in titles and markers.
VERDICT_COLORS = {
    "holds": "tab:green",
    "does not hold": "tab:red",
    "inconclusive": "0.4",
    "not applicable": "0.65",
}


def _oracle(report: ClaimsReport) -> str:
    """The ORACLE label, naming the target's stem and the target for another target than vocals."""
    if report.target == "vocals":
        return ORACLE
    return f"target {report.target}, " + ORACLE.replace("the true vocal", f"the true {report.target} stem")


def plot_claims_curves(report: ClaimsReport, *, converged: Optional[KCurve] = None) -> Figure:
    """SI-SDR and the step loss against k, median over tracks with their 95 % interval.

    Parameters
    ----------
    report : ClaimsReport
    converged : KCurve, optional
        SI-SDR per k of the same excerpts with converged settings
        (:attr:`conv2dsep_lib.sweep.claims.ClaimsResult.converged_si_sdr`), drawn beside.

    Returns
    -------
    Figure
        Left: SI-SDR per k (each track's median over its excerpts, then the median over
        tracks; band: bootstrap 95 % interval; dashed: IQR), the ideal ratio mask's median as
        a line, the seed's k marked.  Middle (when recorded): the common yardstick per k
        (fingerprint distance to the vocal, mean of 19 views), log scale.  Right: the seed's
        step loss per k (measured in view k, so values of different k are in different
        views), log scale.  Title says ORACLE.
    """
    panels = [(report.si_sdr, "SI-SDR (dB)")]
    if report.yardstick is not None:
        panels.append((report.yardstick, f"yardstick: distance to the vocal, mean of 19 views ({DB2})"))
    panels.append((report.loss, f"step loss ({DB2}, measured in view k)"))
    fig = Figure(figsize=(6.5 * len(panels), 5))
    axes = list(fig.subplots(1, len(panels)))
    ax_s, ax_l = axes[0], axes[-1]
    for ax, (curve, name) in zip(axes, panels):
        if not curve.k:
            no_data(ax, "no progressive runs")
            continue
        k = np.asarray(curve.k)
        med = nan_array(s.median for s in curve.spreads)
        lo, hi = nan_array(s.ci_low for s in curve.spreads), nan_array(s.ci_high for s in curve.spreads)
        ax.fill_between(k, lo, hi, color="tab:blue", alpha=0.2, lw=0, label="95 % CI of the median")
        ax.plot(
            k,
            nan_array(s.q25 for s in curve.spreads),
            "--",
            color="tab:blue",
            lw=0.8,
            label="IQR over tracks",
        )
        ax.plot(k, nan_array(s.q75 for s in curve.spreads), "--", color="tab:blue", lw=0.8)
        ax.plot(k, med, "o-", color="tab:blue", clip_on=False, label=f"median of {report.n_tracks} tracks")
        ax.axvline(report.seed_k, color="tab:orange", lw=1.0, ls=":", label=f"the seed's k = {report.seed_k}")
        ax.set_xticks(list(curve.k))
        ax.set_xlabel("slices k (1..k in the original order)")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        if curve is not report.si_sdr and np.nanmin(np.concatenate([med, lo])) > 0:
            ax.set_yscale("log")
            plain_log_axis(ax)
    if converged is not None and converged.k:
        ax_s.plot(
            np.asarray(converged.k),
            nan_array(s.median for s in converged.spreads),
            "s--",
            color="tab:red",
            lw=1.2,
            ms=4,
            label="converged (1000 iterations), median",
        )
    if np.isfinite(report.irm.median):
        ax_s.axhline(
            report.irm.median, color="tab:green", ls="--", lw=1.1, label="oracle_irm (oracle), median"
        )
    legend_outside(ax_l, ncol=1)
    if report.si_sdr.k:
        ax_s.legend(fontsize=8, loc="best")
    fig.suptitle(
        f"SI-SDR, yardstick and step loss per k over {report.n_tracks} tracks, {report.n_excerpts} excerpts -- "
        f"{_oracle(report)}",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def plot_claims_intervals(report: ClaimsReport) -> Figure:
    """One panel per claim: each track's value, the median over tracks and its 95 % interval.

    The claim's boundary is drawn (0 for a difference, the shaded 70-80 % for (d)); the
    panel's title gives the verdict.  Title says ORACLE.
    """
    fig = Figure(figsize=(13, 4.2))
    axes = fig.subplots(1, len(report.rows)) if report.rows else [fig.subplots()]
    for ax, r in zip(np.atleast_1d(axes), report.rows):
        vals = nan_array(r.per_track.values())
        color = VERDICT_COLORS.get(r.verdict, "0.4")
        if r.direction.startswith("in"):
            ax.axhspan(*QUALITY_RANGE, color="tab:orange", alpha=0.15, label="claimed 70-80 %")
        else:
            ax.axhline(0.0, color="k", lw=0.8)
        rng = np.random.default_rng(0)
        ax.scatter(rng.uniform(-0.15, 0.15, vals.size), vals, s=16, color="0.5", alpha=0.7, label="tracks")
        s = r.spread
        if s.n_tracks:
            ax.errorbar(
                [0.0],
                [s.median],
                yerr=[[s.median - s.ci_low], [s.ci_high - s.median]],
                fmt="D",
                color=color,
                capsize=6,
                lw=2,
                label="median, 95 % CI",
            )
        ax.set_xlim(-0.6, 0.6)
        ax.set_xticks([])
        ax.set_ylabel(f"{r.unit}")
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(f"({r.id}) claimed {r.direction}: {r.verdict}", fontsize=9, color=color)
        ax.set_xlabel(_wrap(r.measure, 38), fontsize=7)
    fig.suptitle(f"The seed's claims on {report.n_tracks} tracks -- {_oracle(report)}", fontsize=11)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
