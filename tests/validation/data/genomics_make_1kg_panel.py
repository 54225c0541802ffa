"""Writes genomics_1kg_panel.tsv: population labels of the 2,504 samples of
genomics_1kg_chr1.vcf.gz, transcribed from the 1000 Genomes Phase 3 panel
integrated_call_samples_v3.20130502.ALL.panel (IGSR; sample, pop, super_pop).

The panel lists the samples in ID order (and, in the copy transcribed, 31 related
samples that are not in this VCF at the end). The runs below say "population POP up to
and including sample LAST" over the VCF's samples in ID order. Run from the repository root:
    python tests/validation/data/genomics_make_1kg_panel.py
The super-population allele frequencies of the VCF's INFO (EAS_AF, ...) check the labels.
"""

import gzip
from pathlib import Path

HERE = Path(__file__).parent
SUPER = {"GBR": "EUR", "FIN": "EUR", "IBS": "EUR", "CEU": "EUR", "TSI": "EUR",
         "CHS": "EAS", "CDX": "EAS", "KHV": "EAS", "CHB": "EAS", "JPT": "EAS",
         "PUR": "AMR", "CLM": "AMR", "PEL": "AMR", "MXL": "AMR",
         "ACB": "AFR", "GWD": "AFR", "ESN": "AFR", "MSL": "AFR", "YRI": "AFR", "LWK": "AFR",
         "ASW": "AFR", "PJL": "SAS", "BEB": "SAS", "STU": "SAS", "ITU": "SAS", "GIH": "SAS"}
RUNS = """GBR HG00160 FIN HG00190 GBR HG00265 FIN HG00384 CHS HG00543 PUR HG00554
CHS HG00634 PUR HG00641 CHS HG00729 PUR HG00743 CDX HG01046 PUR HG01111 CLM HG01149
PUR HG01248 CLM HG01284 PUR HG01326 GBR HG01334 CLM HG01390 PUR HG01414 CLM HG01498
IBS HG01537 CLM HG01556 PEL HG01578 PJL HG01593 KHV HG01600 IBS HG01786 GBR HG01791
CDX HG01817 KHV HG01878 ACB HG01890 PEL HG01893 ACB HG01915 PEL HG01954 ACB HG01958
PEL HG01982 ACB HG01990 PEL HG02008 ACB HG02014 KHV HG02050 ACB HG02054 KHV HG02088
PEL HG02090 ACB HG02095 PEL HG02105 ACB HG02111 KHV HG02142 ACB HG02144 PEL HG02150
CDX HG02190 GBR HG02215 IBS HG02239 CDX HG02250 PEL HG02253 ACB HG02256 PEL HG02278
ACB HG02284 PEL HG02304 ACB HG02309 PEL HG02312 ACB HG02343 PEL HG02348 CDX HG02410
ACB HG02420 PEL HG02425 ACB HG02455 GWD HG02465 ACB HG02489 PJL HG02494 ACB HG02511
KHV HG02522 ACB HG02558 GWD HG02574 ACB HG02580 GWD HG02595 PJL HG02604 GWD HG02646
PJL HG02661 GWD HG02679 PJL HG02700 GWD HG02722 PJL HG02737 GWD HG02772 PJL HG02793
GWD HG02896 ESN HG02981 GWD HG02983 BEB HG03012 PJL HG03022 GWD HG03049 MSL HG03097
ESN HG03202 MSL HG03225 PJL HG03238 GWD HG03259 ESN HG03372 MSL HG03485 PJL HG03491
ESN HG03521 GWD HG03539 MSL HG03583 BEB HG03616 PJL HG03640 STU HG03646 PJL HG03668
STU HG03698 PJL HG03709 STU HG03711 ITU HG03731 STU HG03741 ITU HG03742 STU HG03760
PJL HG03767 ITU HG03792 BEB HG03833 STU HG03858 ITU HG03882 STU HG03900 BEB HG03941
STU HG03955 ITU HG03978 STU HG03999 ITU HG04002 STU HG04006 ITU HG04026 STU HG04047
ITU HG04070 STU HG04075 ITU HG04098 STU HG04107 ITU HG04118 BEB HG04195 ITU HG04209
STU HG04210 ITU HG04225 STU HG04229 ITU HG04239 CEU NA12890 YRI NA18523 CHB NA18757
YRI NA18934 JPT NA19012 LWK NA19043 JPT NA19091 YRI NA19257 LWK NA19475 ASW NA19625
MXL NA19684 ASW NA19713 MXL NA19795 ASW NA20412 TSI NA20832 GIH NA21144"""


def vcf_samples(path: Path) -> list[str]:
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith("#CHROM"):
                return line.rstrip("\n").split("\t")[9:]
    raise ValueError("no header line")


def main() -> None:
    words = RUNS.split()
    runs = list(zip(words[::2], words[1::2], strict=True))
    labels, run = {}, 0
    for sample in sorted(vcf_samples(HERE / "genomics_1kg_chr1.vcf.gz")):
        pop, last = runs[run]
        labels[sample] = pop
        if sample == last:
            run += 1
    assert run == len(runs), "runs and samples disagree"
    lines = ["sample\tpop\tsuper_pop"]
    lines += [f"{s}\t{p}\t{SUPER[p]}" for s, p in sorted(labels.items())]
    (HERE / "genomics_1kg_panel.tsv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
