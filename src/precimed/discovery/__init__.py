"""GA4GH Beacon v2 discovery: request and response models (:mod:`.models`), the
granularity gate (:mod:`.granularity`) and the router under ``/api/beacon/v2``
(:mod:`.beacon`, whose data the app attaches as ``app.state.beacon``)."""

from precimed.discovery.granularity import Access, Granularity, Tier, grant, tier_of

__all__ = ["Access", "Granularity", "Tier", "grant", "tier_of"]
