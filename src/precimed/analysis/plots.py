"""Manhattan and QQ plots of association p-values, drawn with matplotlib.

The QQ plot's 95% band is pointwise: the k-th smallest of m uniform p-values follows
Beta(k, m − k + 1), so the band is that distribution's 2.5% and 97.5% quantiles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from precimed.errors import UserError


def _chromosome_order(chrom: pd.Series) -> pd.Series:
    """Numeric chromosomes in number order, then X, Y, MT and the rest alphabetically."""
    labels = chrom.astype(str).str.removeprefix("chr")
    named = {"X": 23, "Y": 24, "XY": 25, "MT": 26, "M": 26}
    numeric = pd.to_numeric(labels, errors="coerce")
    rank = numeric.fillna(labels.map(named)).fillna(100)
    return rank


def manhattan(chrom, pos, pvalues, ax=None, *, significance: float = 5e-8,
              suggestive: float | None = 1e-5, colors=("#1f4e79", "#7fa7d0")):
    """−log10 p against genomic position, chromosomes side by side in alternating colours."""
    import matplotlib.pyplot as plt

    frame = pd.DataFrame({"chrom": pd.Series(chrom).astype(str).to_numpy(),
                          "pos": pd.to_numeric(pd.Series(pos), errors="coerce").to_numpy(),
                          "p": np.asarray(pvalues, dtype=float)})
    frame = frame[np.isfinite(frame.p) & (frame.p > 0)]
    if frame.empty:
        raise UserError("No finite p-values to plot", where="manhattan",
                        hint="Check that the association produced results.")
    frame["pos"] = frame.pos.fillna(pd.Series(np.arange(len(frame)), index=frame.index))
    frame["rank"] = _chromosome_order(frame.chrom).to_numpy()
    frame = frame.sort_values(["rank", "chrom", "pos"])
    ax = ax or plt.subplots(figsize=(10, 3.5))[1]
    offset, ticks, labels = 0.0, [], []
    for i, (name, part) in enumerate(frame.groupby(["rank", "chrom"], sort=False)):
        x = part.pos.to_numpy() - part.pos.min() + offset
        ax.scatter(x, -np.log10(part.p), s=3, color=colors[i % len(colors)], linewidths=0)
        ticks.append(offset + (x.max() - offset) / 2)
        labels.append(name[1])
        offset = x.max() + max((x.max() - offset) * 0.02, 1)
    for level, style in ((significance, "-"), (suggestive, "--")):
        if level:
            ax.axhline(-np.log10(level), color="grey", linestyle=style, linewidth=0.8)
    ax.set_xticks(ticks, labels)
    ax.set_xlabel("chromosome")
    ax.set_ylabel(r"$-\log_{10} p$")
    return ax


def qq(pvalues, ax=None, *, band: float = 0.95):
    """Observed against expected −log10 p under the uniform null, with its ``band``."""
    import matplotlib.pyplot as plt

    p = np.sort(np.asarray(pvalues, dtype=float))
    p = p[np.isfinite(p) & (p > 0)]
    if len(p) == 0:
        raise UserError("No finite p-values to plot", where="qq",
                        hint="Check that the association produced results.")
    m = len(p)
    k = np.arange(1, m + 1)
    expected = -np.log10(k / (m + 1))
    ax = ax or plt.subplots(figsize=(4, 4))[1]
    lower = -np.log10(stats.beta.ppf(0.5 + band / 2, k, m - k + 1))
    upper = -np.log10(stats.beta.ppf(0.5 - band / 2, k, m - k + 1))
    ax.fill_between(expected, lower, upper, color="grey", alpha=0.25, linewidth=0)
    ax.scatter(expected, -np.log10(p), s=4, color="#1f4e79", linewidths=0)
    top = expected.max()
    ax.plot([0, top], [0, top], color="red", linewidth=0.8)
    ax.set_xlabel(r"expected $-\log_{10} p$")
    ax.set_ylabel(r"observed $-\log_{10} p$")
    return ax
