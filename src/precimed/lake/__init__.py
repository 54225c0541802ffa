"""The lake: Delta tables of the standard, the catalog that makes commits atomic
across tables, and named releases."""

from precimed.lake.catalog import Catalog, Release
from precimed.lake.store import Lake, Snapshot

__all__ = ["Catalog", "Lake", "Release", "Snapshot"]
