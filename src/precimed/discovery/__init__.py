"""GA4GH Beacon v2 discovery: request and response models (:mod:`.models`), the
granularity gate (:mod:`.granularity`), the data answered from (:mod:`.source`, which the
app attaches as ``app.state.beacon``), population frequencies from the reference summary
(:mod:`.populations`) and the router under ``/api/beacon/v2`` (:mod:`.beacon`)."""

from precimed.discovery.granularity import Access, Granularity, Tier, grant, tier_of

__all__ = ["Access", "Granularity", "Tier", "grant", "tier_of"]
