#!/bin/sh
# Reference allele counts, frequencies and HWE exact p-values for precimed.genomics from
# PLINK v2.00a3.5 AVX2 (9 Aug 2022; Debian plink2) and bcftools (Debian), run from the
# repository root:
#   sh tests/validation/reference/plink2_1kg_freq_hardy.sh
# Input: tests/validation/data/genomics_1kg_chr1.vcf.gz (1000 Genomes Phase 3 chr1 test
# subset from the PyPI package beacon2-cbi-tools 2.0.13, 2,504 samples x 1,042 records).
# Multi-allelic records are split first with 'bcftools norm -m-' (no reference FASTA, so
# no left-alignment), as precimed splits them; variant IDs become CHROM:POS:REF:ALT.
# Output: tests/validation/reference/plink2_1kg_freq_hardy.json
set -eu
D=tests/validation/data
T=$(mktemp -d)
bcftools norm -m- -Oz -o $T/split.vcf.gz $D/genomics_1kg_chr1.vcf.gz
P="plink2 --threads 2 --silent --vcf $T/split.vcf.gz --set-all-var-ids @:#:\$r:\$a --new-id-max-allele-len 1000"
$P --freq counts --out $T/counts
$P --freq --out $T/freq
$P --hardy --out $T/hardy
$P --hardy midp --out $T/midp
python3 - "$T" "$(plink2 --version)" "$(bcftools --version | head -1)" <<'PY'
import csv, json, sys
t, plink, bcftools = sys.argv[1:4]
def rows(name):
    with open(f"{t}/{name}") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
counts, freq = rows("counts.acount"), rows("freq.afreq")
hardy, midp = rows("hardy.hardy"), rows("midp.hardy")
out = {"plink2": plink, "bcftools": bcftools,
       "commands": open("tests/validation/reference/plink2_1kg_freq_hardy.sh").read(),
       "variants": []}
for c, f, h, m in zip(counts, freq, hardy, midp, strict=True):
    assert c["ID"] == f["ID"] == h["ID"] == m["ID"]
    out["variants"].append({
        "id": c["ID"], "ref": c["REF"], "alt": c["ALT"],
        "alt_ct": int(c["ALT_CTS"]), "obs_ct": int(c["OBS_CT"]),
        "alt_freq": f["ALT_FREQS"],
        "a1": h["A1"], "hom_a1": int(h["HOM_A1_CT"]), "het_a1": int(h["HET_A1_CT"]),
        "two_ax": int(h["TWO_AX_CT"]), "p": h["P"], "p_midp": m["MIDP"]})
path = "tests/validation/reference/plink2_1kg_freq_hardy.json"
with open(path, "w") as handle:
    json.dump(out, handle, indent=0)
print(len(out["variants"]), "variants written to", path)
PY
rm -r "$T"
