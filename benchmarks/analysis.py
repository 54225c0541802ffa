"""Cox model benchmark: n = 100,000, p = 10, precimed against R's coxph and lifelines in
the same run (Efron ties, the same simulated data).

    .venv/bin/python benchmarks/analysis.py [--n 100000] [--p 10]

Needs Rscript with the survival package (Debian r-cran-survival) for the R column.
Writes benchmarks/results/analysis.json. Not a test: numbers, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from precimed.analysis import CoxPH

RESULTS = Path(__file__).parent / "results" / "analysis.json"
R_FIT = """
suppressMessages(library(survival))
d <- read.csv(commandArgs(TRUE)[1])
covs <- setdiff(names(d), c("time", "status"))
f <- as.formula(paste("Surv(time, status) ~", paste(covs, collapse = " + ")))
elapsed <- min(sapply(1:3, function(i)
  system.time(fit <<- coxph(f, data = d, ties = "efron"))[["elapsed"]]))
cat(elapsed, format(coef(fit), digits = 17), "\\n")
"""


def simulate(n: int, p: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    x = rng.normal(size=(n, p))
    beta = rng.uniform(-0.5, 0.5, p)
    event_time = rng.exponential(1 / (0.1 * np.exp(x @ beta)))
    censor = rng.exponential(12, n)
    time_ = np.ceil(np.minimum(event_time, censor) * 365)  # whole days: ties, as in cohorts
    data = pd.DataFrame(x, columns=[f"x{i}" for i in range(p)])
    data["time"], data["status"] = time_, (event_time <= censor).astype(int)
    return data, beta


def best_of(repeats: int, fit):
    """The fitted model and the fastest of ``repeats`` wall times, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - started)
    return model, round(min(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=10)
    args = parser.parse_args()
    data, truth = simulate(args.n, args.p, np.random.default_rng(1))
    covariates = [c for c in data.columns if c.startswith("x")]
    out: dict = {"n": args.n, "p": args.p, "events": int(data.status.sum()),
                 "distinct_times": int(data.time.nunique())}
    ours, out["precimed_seconds"] = best_of(
        3, lambda: CoxPH().fit(data, "time", "status", covariates=covariates))
    coef = ours.params_.to_numpy()
    if shutil.which("Rscript"):
        work = Path(tempfile.mkdtemp())
        try:
            data.to_csv(work / "d.csv", index=False)
            (work / "fit.R").write_text(R_FIT)
            done = subprocess.run(["Rscript", str(work / "fit.R"), str(work / "d.csv")],
                                  capture_output=True, text=True, check=True)
            seconds, *r_coef = done.stdout.split()
            out["r_coxph_seconds"] = float(seconds)
            out["max_abs_coef_difference_vs_r"] = float(np.max(np.abs(
                coef - np.array(r_coef, float))))
            out["ratio_to_r"] = round(out["precimed_seconds"] / float(seconds), 3)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    from lifelines import CoxPHFitter

    theirs, out["lifelines_seconds"] = best_of(
        3, lambda: CoxPHFitter().fit(data, "time", "status"))
    out["timing"] = "fastest of 3 fits for each tool, in the same run (R: 3 fits in one R " \
                    "session, elapsed time of coxph only)"
    out["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    out["speedup_over_lifelines"] = round(out["lifelines_seconds"] / out["precimed_seconds"], 1)
    out["max_abs_coef_difference_vs_lifelines"] = float(np.max(np.abs(
        coef - theirs.params_[covariates].to_numpy())))
    out["max_abs_error_vs_true_beta"] = float(np.max(np.abs(coef - truth)))
    out["goal"] = ("no slower than R's coxph, at least 10x faster than lifelines, "
                   "coefficients equal to 1e-9")
    out["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                      "platform": platform.platform()}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
