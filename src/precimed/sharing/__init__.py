"""Governed sharing: the data catalogue, access requests, the committee, and the
human-genetic-resource rules that stand between a researcher's question and the data.

The model (tables in :mod:`precimed.ops.db`, vocabularies in :mod:`precimed.standard.sharing`
and :mod:`precimed.standard.duo`):

- ``CatalogueEntry``: a dataset one can ask for (a release's clinical tables of a cohort,
  or a genotype dataset), with kind, owning centres, access tier, embargo date, variables
  (data-dictionary names) and exact counts that only leave through disclosure control.
  Its DUO conditions are versioned rows of ``CatalogueConditions`` (append-only).
- ``AccessRequest``: one application. Status: draft → submitted → under_review →
  approved / rejected / returned; approved → active → expired / revoked; withdrawn from
  any open state (``REQUEST_TRANSITIONS``). It names its datasets
  (``AccessRequestDataset``, with the conditions version matched), its members
  (``AccessRequestMember``, ``user_id`` = platform accounts allowed in the project),
  variables, a saved cohort (snapshotted at submission), the DUO-coded intended use, the
  ethics approval (document kept under ``Settings.sharing_dir``), foreign-party flags and
  the HGR filing / security-review records. An approval fixes ``date_handling``
  ("shifted" or "year_month"), ``coarsen_allowed`` (k-anonymity may coarsen), the added
  ``approved_conditions`` and ``expires_on``.
- ``AccessEvent`` (every status change), ``DacVote`` (per review round) and ``Provision``
  (every provision of data, listed per year) are append-only.

A *project* is an active request: :func:`precimed.sharing.requests.active_request` gives
it to a member, or raises 403 (expired, revoked, not yet active, not a member) / 404 with
a hint; an extract records itself with :func:`precimed.sharing.provisions.record`.
Every state change here writes the audit log (``precimed.ops.audit``).
"""
