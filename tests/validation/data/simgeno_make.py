"""Simulated genotypes for the PLINK 2 comparison: 500 samples × 500 variants, seed 20240611.

    .venv/bin/python tests/validation/data/simgeno_make.py

Writes simgeno_complete.{bed,bim,fam} (no missing calls), simgeno_missing.{bed,bim,fam}
(the same genotypes with 2% of calls set missing at random) and simgeno.pheno (FID IID
qt1 qt2 qt3 cc age female pc1 pc2): qt1 and cc depend on three causal variants, qt2 is
null, qt3 is qt1 with 5% of values missing (NA).
"""

from pathlib import Path

import numpy as np
import pandas as pd

from precimed.analysis.genotypes import write_bed

HERE = Path(__file__).parent
rng = np.random.default_rng(20240611)
n, m = 500, 500
freq = np.concatenate([rng.uniform(0.05, 0.5, m - 20), rng.uniform(0.002, 0.01, 20)])
rng.shuffle(freq)
genotypes = rng.binomial(2, freq, size=(n, m)).astype(np.int8)
covariates = pd.DataFrame({"age": rng.normal(55, 10, n).round(1),
                           "female": rng.integers(0, 2, n),
                           "pc1": rng.normal(0, 1, n).round(5),
                           "pc2": rng.normal(0, 1, n).round(5)})
causal = [10, 200, 400]
signal = genotypes[:, causal] @ np.array([0.5, -0.4, 0.3])
linear = 0.02 * covariates.age + 0.3 * covariates.female + 0.2 * covariates.pc1
qt1 = (signal + linear + rng.normal(0, 1, n)).round(6)
odds = -3 + signal * 1.5 + 0.04 * covariates.age + 0.2 * covariates.pc2
cc = rng.binomial(1, 1 / (1 + np.exp(-odds)))
qt3 = np.where(rng.random(n) < 0.05, np.nan, qt1)
ids = [f"sim{i + 1}" for i in range(n)]
samples = pd.DataFrame({"fid": ids, "iid": ids})
variants = pd.DataFrame({"chrom": np.repeat(["1", "2"], m // 2), "id": [f"snp{j + 1}" for j in
                         range(m)], "pos": np.tile(np.arange(1, m // 2 + 1) * 5000, 2),
                         "alt": "A", "ref": "G"})
write_bed(HERE / "simgeno_complete", genotypes, variants=variants, samples=samples)
missing = genotypes.copy()
missing[rng.random((n, m)) < 0.02] = -1
write_bed(HERE / "simgeno_missing", missing, variants=variants, samples=samples)
pheno = pd.DataFrame({"FID": ids, "IID": ids, "qt1": qt1, "qt2": rng.normal(0, 1, n).round(6),
                      "qt3": qt3, "cc": cc + 1}).join(covariates)
pheno.to_csv(HERE / "simgeno.pheno", sep="\t", index=False, na_rep="NA")
