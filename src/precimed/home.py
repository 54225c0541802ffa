"""The platform home: lake, operational database and pseudonymisation key, created once."""

from __future__ import annotations

from precimed.deid.pseudonym import create_key
from precimed.errors import Conflict
from precimed.lake import Lake
from precimed.ops import OpsDatabase
from precimed.ops.audit import Anchor
from precimed.settings import Settings


def initialise(settings: Settings) -> None:
    """Create the home; refuse to touch one that already holds a lake."""
    if (settings.lake_dir / "catalog.json").exists():
        raise Conflict("The platform home is already initialised", where=str(settings.home),
                       hint="Use it as it is, or pass another --home.")
    settings.home.mkdir(parents=True, exist_ok=True)
    if not settings.pseudonym_key_file.exists():
        create_key(settings.pseudonym_key_file)
    Anchor.of(settings).create_key()
    Lake.create(settings.lake_dir)
    database = OpsDatabase(settings.database_url)
    database.create()
    database.dispose()
