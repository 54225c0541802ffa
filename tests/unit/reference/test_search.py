"""Search parsing and the gene table."""

from __future__ import annotations

import pytest

from precimed.errors import NotFound, UserError
from precimed.reference.genes import (
    GeneTerm,
    RegionTerm,
    RsidTerm,
    VariantTerm,
    gene_loci,
    gene_table,
    normalise_chrom,
    parse_search,
)


@pytest.mark.parametrize("text", ["1-55051215-G-A", "chr1-55051215-G-A", "CHR1:55051215:g:a",
                                  "1_55051215_G_A", "1:55051215:G>A", " chr01-55051215-G-A "])
def test_variant_forms(text):
    assert parse_search(text) == VariantTerm("1", 55051215, "G", "A")


@pytest.mark.parametrize(("text", "build"), [("GRCh38:1-5-A-T", "GRCh38"),
                                             ("hg19:1-5-A-T", "GRCh37"),
                                             ("grch37/1-5-A-T", "GRCh37")])
def test_builds(text, build):
    assert parse_search(text).build == build


def test_other_forms():
    assert parse_search("chrX-100-A-ATT") == VariantTerm("X", 100, "A", "ATT")
    assert parse_search("chrM:3-5") == RegionTerm("MT", 3, 5)
    assert parse_search("1:55,039,447-55,064,852") == RegionTerm("1", 55039447, 55064852)
    assert parse_search("hg38:chr1:1-10") == RegionTerm("1", 1, 10, "GRCh38")
    assert parse_search("RS11591147") == RsidTerm("rs11591147")
    assert parse_search("pcsk9") == GeneTerm("PCSK9")
    assert parse_search("HLA-A") == GeneTerm("HLA-A")


@pytest.mark.parametrize(("text", "message"), [
    ("", "Empty"), ("chr23-5-A-T", "Unknown chromosome"), ("1-5-A-Z", "DNA bases"),
    ("1:10-5", "ends before"), ("1:1-6000000", "too wide"), ("1-0-A-T", "1-based"),
    ("hg17:1-5-A-T", "Cannot read"), ("what is this?", "Cannot read")])
def test_bad_searches_say_how_to_write_them(text, message):
    with pytest.raises(UserError, match=message) as caught:
        parse_search(text)
    assert caught.value.hint


def test_normalise_chrom():
    assert [normalise_chrom(c) for c in ("chr1", "01", "x", "chrM", "MT")] == \
        ["1", "1", "X", "MT", "MT"]


def test_gene_table_is_ensembl_grch38():
    table = gene_table()
    assert len(table) > 40_000
    assert set(table["chrom"]) <= {*map(str, range(1, 23)), "X", "Y", "MT"}
    assert (table["start"] <= table["end"]).all()
    pcsk9 = gene_loci("PCSK9")
    assert pcsk9[["chrom", "start", "end"]].values.tolist() == [["1", 55039447, 55064852]]
    assert gene_loci("narc-1")["symbol"].tolist() == ["PCSK9"]  # an alias
    assert gene_loci("APOE")["chrom"].tolist() == ["19"]


def test_gene_search_fails_clearly():
    with pytest.raises(NotFound):
        gene_loci("NOTAGENE1")
    with pytest.raises(UserError, match="GRCh38 only"):
        gene_loci("PCSK9", build="GRCh37")
