"""Small VCF files written as text for the genomics tests (htslib reads plain VCF)."""

from __future__ import annotations

from pathlib import Path

HEADER = ("##fileformat=VCFv4.2\n##contig=<ID=1>\n##contig=<ID=X>\n"
          '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')


def write_vcf(path: Path, samples: list[str], records: list[tuple]) -> Path:
    """records: (chrom, pos, id, ref, alt, [GT per sample])."""
    lines = [HEADER + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
             + "\t".join(samples)]
    for chrom, pos, vid, ref, alt, calls in records:
        lines.append(f"{chrom}\t{pos}\t{vid}\t{ref}\t{alt}\t.\tPASS\t.\tGT\t" + "\t".join(calls))
    path.write_text("\n".join(lines) + "\n")
    return path
