"""Beacon request parsing: GET and POST forms, coordinates, filters, errors."""

from __future__ import annotations

import pytest

from precimed.discovery.granularity import Granularity
from precimed.discovery.models import (
    BeaconRequestBody,
    Filter,
    VariantQuery,
    custom_terms,
    parse_filter,
    query_from_body,
    query_from_params,
)
from precimed.errors import UserError


def test_sequence_query_is_zero_based():
    q = query_from_params({"referenceName": "chr1", "start": "55051214",
                           "referenceBases": "g", "alternateBases": "A",
                           "assemblyId": "hg38", "requestedGranularity": "count"})
    assert q.variant == VariantQuery("1", 55051215, 55051215, "G", "A", None, "GRCh38")
    assert q.granularity is Granularity.COUNT


def test_range_and_bracket_queries():
    q = query_from_params({"referenceName": "X", "start": "99", "end": "200"})
    assert (q.variant.chrom, q.variant.first, q.variant.last) == ("X", 100, 200)
    q = query_from_params({"referenceName": "1", "start": "10,20", "end": "30,40"})
    assert (q.variant.first, q.variant.last) == (11, 40)


def test_get_and_post_forms_mean_the_same():
    get = query_from_params({"referenceName": "1", "start": "5", "alternateBases": "T",
                             "filters": "NCIT:C16576,region:east", "skip": "2",
                             "limit": "5", "requestedGranularity": "record"})
    post = query_from_body(BeaconRequestBody.model_validate({
        "meta": {"apiVersion": "v2.0"},
        "query": {"requestParameters": {"referenceName": "1", "start": [5],
                                        "alternateBases": "T"},
                  "filters": [{"id": "NCIT:C16576"}, "region:east"],
                  "pagination": {"skip": 2, "limit": 5},
                  "requestedGranularity": "record"}}))
    for attribute in ("variant", "filters", "skip", "limit", "granularity"):
        assert getattr(get, attribute) == getattr(post, attribute)
    assert get.filters == (Filter("NCIT:C16576", "sex", "2"), Filter("region:east", "region",
                                                                      "east"))


def test_grouped_request_parameters_are_accepted():
    body = BeaconRequestBody.model_validate({"query": {"requestParameters": {
        "g_variant": {"referenceName": "1", "start": [5], "alternateBases": "T"},
        "datasets": {"datasetIds": ["1000G"]}}}})
    q = query_from_body(body)
    assert q.variant.first == 6 and q.datasets == ("1000G",)
    echoed = q.summary()["requestParameters"]
    assert echoed == {"g_variant": {"referenceName": "1", "start": [5],
                                    "alternateBases": "T"},
                      "datasets": {"datasetIds": ["1000G"]}}


def test_gene_and_dataset_parameters():
    q = query_from_params({"geneId": "PCSK9", "datasetIds": "1000G,precimed"})
    assert q.variant.gene == "PCSK9" and q.datasets == ("1000G", "precimed")


@pytest.mark.parametrize(("params", "message"), [
    ({"referenceName": "1"}, "start is missing"),
    ({"start": "5"}, "referenceName is missing"),
    ({"referenceName": "1", "start": "5"}, "needs alternateBases"),
    ({"referenceName": "1", "start": "50", "end": "10"}, "end is before start"),
    ({"referenceName": "1", "start": "-1", "end": "10"}, "must not be negative"),
    ({"referenceName": "1", "start": "x"}, "whole number"),
    ({"referenceName": "1", "start": "1", "alternateBases": "Q"}, "DNA bases"),
    ({"referenceName": "1", "start": "1", "variantType": "CNV"}, "variantType"),
    ({"assemblyId": "hg17"}, "genome build"),
    ({"filters": "NCIT:C99999"}, "Unknown filtering term"),
    ({"filters": "region:atlantis"}, "Unknown filtering term"),
    ({"limit": "100000"}, "Pagination"),
    ({"includeResultsetResponses": "SOME"}, "includeResultsetResponses"),
])
def test_bad_requests_are_user_errors(params, message):
    with pytest.raises(UserError, match=message) as caught:
        query_from_params(params)
    assert caught.value.hint


@pytest.mark.parametrize("parameters", [
    {"referenceName": ["1"], "start": [5], "alternateBases": "T"},
    {"referenceName": "1", "start": {"a": 1}, "alternateBases": "T"},
    {"referenceName": "1", "start": [5], "variantType": 7},
    {"assemblyId": 38}, {"referenceName": "1", "start": [5], "alternateBases": 12}])
def test_odd_json_types_are_user_errors(parameters):
    body = BeaconRequestBody.model_validate({"query": {"requestParameters": parameters}})
    with pytest.raises(UserError):
        query_from_body(body)


def test_alphanumeric_filters_are_refused():
    with pytest.raises(UserError, match="Alphanumeric"):
        parse_filter({"id": "age", "operator": ">", "value": "40"})


def test_custom_terms_list_regions_provinces_and_populations():
    ids = {t["id"] for t in custom_terms({"CHB": "EAS", "GBR": "EUR"})}
    assert {"region:east", "province:31", "population:CHB", "superPopulation:EUR"} <= ids
    for term in ids:
        parse_filter(term)  # every listed term is understood
