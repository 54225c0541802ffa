"""Tables the platform computes into the lake (variant_summary) are declared in the
standard beside the submitted ones, documented in the dictionary, and refused in a
package."""

from __future__ import annotations

import json

import pytest

from precimed.errors import SubmissionRejected
from precimed.ingest.package import read_manifest
from precimed.standard import DERIVED_TABLES, LAKE_TABLES, TABLES
from precimed.standard.dictionary import render_dictionary


def test_lake_tables_are_the_submitted_and_the_derived_ones():
    assert set(TABLES).isdisjoint(DERIVED_TABLES)
    assert LAKE_TABLES == {**TABLES, **DERIVED_TABLES}
    for table in DERIVED_TABLES.values():
        assert table.submitted_fields == ()  # no field of it is ever sent
        assert set(table.key) <= set(table.field_names)
        assert set(table.order_by) <= set(table.field_names)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_dictionary_documents_the_variant_summary(language):
    text = render_dictionary(language)
    assert "(`variant_summary`)" in text
    assert "`hwe_p`" in text and "`genome_build`" in text


def test_a_package_cannot_submit_a_derived_table(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({
        "centre": "SH01", "standard_version": "1.0.0",
        "files": [{"path": "v.csv", "table": "variant_summary", "size": 1, "sha256": "0"}]}))
    with pytest.raises(SubmissionRejected, match="computed by the platform") as caught:
        read_manifest(tmp_path)
    assert "v.csv" in caught.value.where and "genomics submit" in caught.value.hint
