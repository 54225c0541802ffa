"""GWAS benchmark: precimed's linear_gwas and logistic_gwas against PLINK 2 ``--glm`` on the
same simulated PLINK 1 fileset (default 10,000 samples × 50,000 variants, seed 20240611,
ten causal variants, covariates age, sex and 4 PCs), both reading the .bed file.

    .venv/bin/python benchmarks/gwas.py [--samples 10000] [--variants 50000] [--phenotypes 100]

Times: plink2 --threads 2 for one phenotype, for 100 phenotypes in one run, and logistic
with firth-fallback; precimed for the same, including opening and reading the .bed (not
writing results, which plink2's times include). One phenotype and logistic: fastest of
three alternating runs of each tool; 100 phenotypes: one run each.
Agreement: linear beta/SE/p over all variants, logistic p on PLINK 2's hits (p < 1e-5).
Needs plink2 on PATH. Writes benchmarks/results/gwas.json. Not a test: numbers, not
pass/fail. Other processes on the machine are reported by the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from precimed.analysis.association import linear_gwas, logistic_gwas
from precimed.analysis.genotypes import read_bed, write_bed

RESULTS = Path(__file__).parent / "results" / "gwas.json"
COVARIATES = ["age", "sex", "pc1", "pc2", "pc3", "pc4"]
GOALS = {"linear_1": 1.0, "linear_many": 0.3, "logistic": 0.1}


def simulate(prefix: Path, n: int, m: int, phenotypes: int, rng: np.random.Generator) -> Path:
    """Genotypes in Hardy–Weinberg proportions, written to ``prefix``.bed; a phenotype file."""
    freq = rng.uniform(0.01, 0.5, m)
    genotypes = np.empty((n, m), dtype=np.int8)
    for start in range(0, m, 5000):
        f = freq[start:start + 5000]
        u = rng.random((n, len(f)), dtype=np.float32)
        genotypes[:, start:start + 5000] = (u < f * f).astype(np.int8) + (u < 1 - (1 - f) ** 2)
    ids = [f"s{i + 1}" for i in range(n)]
    chrom = np.repeat(np.arange(1, 23), -(-m // 22))[:m].astype(str)
    variants = pd.DataFrame({"chrom": chrom, "id": [f"rs{j + 1}" for j in range(m)],
                             "pos": np.arange(m) * 1000 + 1, "alt": "A", "ref": "G"})
    write_bed(prefix, genotypes, variants=variants,
              samples=pd.DataFrame({"fid": ids, "iid": ids}))
    covariates = pd.DataFrame({"age": rng.normal(55, 10, n).round(1),
                               "sex": rng.integers(0, 2, n)})
    for k in range(1, 5):
        covariates[f"pc{k}"] = rng.normal(0, 1, n).round(5)
    causal = rng.choice(m, 10, replace=False)
    g = genotypes[:, causal].astype(float)
    base = 0.02 * covariates.age + 0.3 * covariates.sex + 0.1 * covariates.pc1
    traits = {}
    for j in range(phenotypes):
        effect = rng.normal(0, 0.15, 10) if j % 2 == 0 else np.zeros(10)
        traits[f"y{j + 1}"] = (g @ effect + base + rng.normal(0, 1, n)).round(5)
    risk = -2.5 + g @ np.full(10, 0.35) + 0.02 * (covariates.age - 55)
    traits["cc"] = rng.binomial(1, 1 / (1 + np.exp(-risk))) + 1  # plink2: 1 control, 2 case
    pheno = pd.concat([pd.DataFrame({"FID": ids, "IID": ids}), pd.DataFrame(traits),
                       covariates], axis=1)
    pheno.to_csv(prefix.with_suffix(".pheno"), sep="\t", index=False)
    return prefix.with_suffix(".pheno")


def plink2(prefix: Path, pheno: Path, names: str, out: Path, glm: str) -> float:
    command = ["plink2", "--threads", "2", "--silent", "--bfile", str(prefix), "--pheno",
               str(pheno), "--pheno-name", names, "--covar", str(pheno), "--covar-name",
               ",".join(COVARIATES), "--glm", *glm.split(), "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def linear_agreement(ours: pd.DataFrame, path: Path) -> dict:
    theirs = pd.read_csv(path, sep="\t")
    sign = np.where(theirs.A1 == theirs.ALT, 1.0, -1.0)
    ok = theirs.P.notna().to_numpy()
    rel = {c: float(np.max(np.abs(ours[o].to_numpy()[ok] * s - theirs[c].to_numpy()[ok])
                           / np.abs(theirs[c].to_numpy()[ok])))
           for c, o, s in (("BETA", "beta", sign[ok]), ("SE", "se", 1), ("P", "p", 1))}
    t = ours.t.to_numpy()[ok] * sign[ok]
    beta_over_se = np.abs(ours.beta.to_numpy()[ok] * sign[ok] - theirs.BETA.to_numpy()[ok]) \
        / ours.se.to_numpy()[ok]
    return {"max_rel_diff_beta": rel["BETA"], "max_abs_diff_beta_in_se": float(beta_over_se.max()),
            "max_rel_diff_se": rel["SE"],
            "max_rel_diff_p": rel["P"],
            "max_abs_diff_t": float(np.max(np.abs(t - theirs.T_STAT.to_numpy()[ok]))),
            "variants_compared": int(ok.sum())}


def logistic_agreement(ours: pd.DataFrame, path: Path) -> dict:
    theirs = pd.read_csv(path, sep="\t")
    hits = (theirs.P < 1e-5).to_numpy()
    ours_hits = (ours.p < 1e-5).to_numpy()
    diff = np.abs(np.log10(ours.p.to_numpy()[hits]) - np.log10(theirs.P.to_numpy()[hits]))
    return {"plink2_hits_p_below_1e-5": int(hits.sum()),
            "precimed_hits_p_below_1e-5": int(ours_hits.sum()),
            "hits_in_both": int((hits & ours_hits).sum()),
            "hits_refitted_not_score_only": int((ours.method.to_numpy()[hits] != "score").sum()),
            "max_abs_diff_log10_p_on_hits": float(diff.max()) if hits.any() else None,
            "max_rel_diff_p_on_hits": float(np.max(np.abs(ours.p.to_numpy()[hits]
                                                          - theirs.P.to_numpy()[hits])
                                                   / theirs.P.to_numpy()[hits]))
            if hits.any() else None,
            "firth_rows_precimed": int((ours.method == "firth").sum()),
            "firth_rows_plink2": int((theirs["FIRTH?"] == "Y").sum())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--variants", type=int, default=50_000)
    parser.add_argument("--phenotypes", type=int, default=100)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    rng = np.random.default_rng(20240611)
    version = subprocess.run(["plink2", "--version"], capture_output=True,
                             text=True).stdout.strip()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "sim"
        pheno_path = simulate(prefix, args.samples, args.variants, args.phenotypes, rng)
        pheno = pd.read_csv(pheno_path, sep="\t")
        many = [f"y{j + 1}" for j in range(args.phenotypes)]
        out = Path(tmp) / "out"
        # one-time costs (lazy imports, BLAS threads) paid on a toy problem, not timed
        toy = np.random.default_rng(0).integers(0, 3, (50, 20)).astype(np.int8)
        linear_gwas(toy, np.arange(50.0), np.arange(50.0) ** 2)
        logistic_gwas(toy, np.arange(50) % 2, firth_threshold=1.0)
        # each pair run back to back, so that load from other processes hits both alike;
        # the quick ones three times, keeping the fastest of each
        t_plink_1 = t_ours_1 = t_plink_logistic = t_ours_logistic = np.inf
        for _ in range(3):
            t_plink_1 = min(t_plink_1, plink2(prefix, pheno_path, "y1", out, "hide-covar"))
            one, seconds = timed(lambda: linear_gwas(read_bed(prefix), pheno[["y1"]],
                                                     pheno[COVARIATES]))
            t_ours_1 = min(t_ours_1, seconds)
        t_plink_many = plink2(prefix, pheno_path, ",".join(many), Path(tmp) / "many",
                              "hide-covar")
        _, t_ours_many = timed(lambda: linear_gwas(read_bed(prefix), pheno[many],
                                                   pheno[COVARIATES]))
        for _ in range(3):
            t_plink_logistic = min(t_plink_logistic, plink2(prefix, pheno_path, "cc", out,
                                                            "firth-fallback hide-covar"))
            logistic, seconds = timed(lambda: logistic_gwas(read_bed(prefix), pheno.cc - 1,
                                                            pheno[COVARIATES]))
            t_ours_logistic = min(t_ours_logistic, seconds)
        tracemalloc.start()  # numpy reports its buffers to tracemalloc; untimed run
        linear_gwas(read_bed(prefix), pheno[many], pheno[COVARIATES])
        peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        linear_stats = linear_agreement(one.summary, out.with_suffix(".y1.glm.linear"))
        logistic_stats = logistic_agreement(logistic.summary,
                                            out.with_suffix(".cc.glm.logistic.hybrid"))
    times = {"linear_1": (t_ours_1, t_plink_1), "linear_many": (t_ours_many, t_plink_many),
             "logistic": (t_ours_logistic, t_plink_logistic)}
    report = {
        "samples": args.samples, "variants": args.variants, "phenotypes": args.phenotypes,
        "covariates": COVARIATES, "plink2_version": version, "plink2_threads": 2,
        "seconds": {name: {"precimed": round(ours, 2), "plink2": round(theirs, 2)}
                    for name, (ours, theirs) in times.items()},
        "ratio_precimed_to_plink2": {name: round(ours / theirs, 3)
                                     for name, (ours, theirs) in times.items()},
        "goal_ratio_at_most": GOALS,
        "goal_met": {name: bool(ours / theirs <= GOALS[name])
                     for name, (ours, theirs) in times.items()},
        "linear_agreement_1_phenotype": linear_stats,
        "logistic_agreement": logistic_stats,
        "lambda_gc_linear_y1": one.lambda_gc_,
        "peak_traced_memory_mb_linear_many": round(peak_mb),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
    }
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
