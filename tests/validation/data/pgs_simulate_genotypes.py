"""Write pgs_sim_genotypes.vcf: simulated genotypes at the GRCh37 positions of the real
PGS Catalog scoring file PGS000001 (the same 77 variants as PGS000002).

No public genotypes shipped in a registry package overlap a real scoring file here (the
1000 Genomes test VCF of beacon2-cbi-tools covers chr1:10,177-174,799 only), so the
genotypes are simulated: Hardy-Weinberg at allele frequencies drawn from U(0.05, 0.95),
3% missing calls. The VCF is built to exercise matching: about 40% of variants have the
effect allele as REF (swapped), 5 scoring variants are absent, 2 carry an ALT that is
neither scoring allele (allele mismatch), and 2 extra variants are not in the score.

Run: .venv/bin/python tests/validation/data/pgs_simulate_genotypes.py
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
SCORING = HERE / "pgs_PGS000001_hmPOS_GRCh37.txt.gz"
OUT = HERE / "pgs_sim_genotypes.vcf"
SAMPLES = 150
SEED = 20240601


def scoring_rows() -> list[dict[str, str]]:
    with gzip.open(SCORING, "rt") as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    header, *rows = lines
    return [dict(zip(header, row, strict=True)) for row in rows]


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = scoring_rows()
    order = rng.permutation(len(rows))
    absent, mismatch = set(order[:5]), set(order[5:7])
    records = []
    for i, row in enumerate(rows):
        if i in absent:
            continue
        effect, other = row["effect_allele"], row["other_allele"]
        ref, alt = (effect, other) if rng.random() < 0.4 else (other, effect)
        if i in mismatch:
            ref, alt = other, next(b for b in "ACGT" if b not in (effect, other))
        records.append((int(row["hm_chr"]), int(row["hm_pos"]), ref, alt))
    records += [(1, 1_000_000, "A", "G"), (2, 2_000_000, "C", "T")]  # not in the score
    records.sort()
    names = [f"SIM{i:03d}" for i in range(1, SAMPLES + 1)]
    lines = ["##fileformat=VCFv4.2", "##source=pgs_simulate_genotypes.py",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             *[f"##contig=<ID={c}>" for c in sorted({r[0] for r in records})],
             "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                        "FORMAT", *names])]
    for chrom, pos, ref, alt in records:
        p = rng.uniform(0.05, 0.95)
        count = rng.binomial(2, p, SAMPLES)
        calls = np.array(["0/0", "0/1", "1/1"])[count]
        calls[rng.random(SAMPLES) < 0.03] = "./."
        lines.append("\t".join([str(chrom), str(pos), f"{chrom}:{pos}", ref, alt, ".", "PASS",
                                ".", "GT", *calls]))
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
