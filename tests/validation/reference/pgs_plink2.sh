#!/usr/bin/env bash
# Reference scores from PLINK 2 for precimed's PolygenicScore (pgs_plink2.json).
# Run from the repository root:
#   bash tests/validation/reference/pgs_plink2.sh > tests/validation/reference/pgs_plink2.json
# Tools: PLINK v2.00a3.5 AVX2 (9 Aug 2022), Debian package plink2; python3 only formats JSON.
# Data: real PGS Catalog scoring files PGS000001 and PGS000002 (harmonized, GRCh37) from
# the pgscatalog-core 1.1.1 sdist, and genotypes simulated at their positions
# (tests/validation/data/pgs_simulate_genotypes.py -> pgs_sim_genotypes.vcf).
# plink2 matches a score line by variant ID and allele code: the VCF IDs are chrom:pos, so
# the score file's hm_chr:hm_pos plays that role. Missing genotypes are mean-imputed
# (plink2's default); cols=+scoresums adds the unnormalised sums precimed reports.
set -euo pipefail
data=tests/validation/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
plink2 --vcf "$data/pgs_sim_genotypes.vcf" --make-pgen --out "$work/geno" > /dev/null
for id in PGS000001 PGS000002; do
  # columns: ID (hm_chr:hm_pos), effect allele, effect weight
  zcat "$data/pgs_${id}_hmPOS_GRCh37.txt.gz" | grep -v '^#' | awk -F'\t' '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; print "ID\tA1\tWEIGHT"; next }
    { print $col["hm_chr"] ":" $col["hm_pos"] "\t" $col["effect_allele"] "\t" $col["effect_weight"] }
  ' > "$work/$id.score"
  plink2 --pfile "$work/geno" --score "$work/$id.score" 1 2 3 header cols=+scoresums \
    list-variants --out "$work/$id" > /dev/null
done
python3 - "$work" <<'PY'
import csv, json, subprocess, sys
work = sys.argv[1]
version = subprocess.run(["plink2", "--version"], capture_output=True, text=True).stdout.strip()
out = {"tool": version, "scores": {}}
for pgs in ("PGS000001", "PGS000002"):
    with open(f"{work}/{pgs}.sscore") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    with open(f"{work}/{pgs}.sscore.vars") as handle:
        used = [line.strip() for line in handle if line.strip()]
    out["scores"][pgs] = {
        "samples": [r["#IID"] for r in rows],
        "allele_ct": [int(r["ALLELE_CT"]) for r in rows],
        "score_sum": [float(r["SCORE1_SUM"]) for r in rows],
        "score_avg": [float(r["SCORE1_AVG"]) for r in rows],
        "variants_used": used,
    }
print(json.dumps(out, indent=1))
PY
