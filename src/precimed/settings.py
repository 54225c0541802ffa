"""One typed settings object: argument > environment > ``precimed.toml`` > default.

Settings are built once at the edge (the CLI, the app factory) and passed down; nothing
deeper reads the environment. :data:`SETTINGS` is the single table of names, defaults
and help that feeds the CLI, validation and the docs.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from precimed.errors import UserError

ENV_PREFIX = "PRECIMED_"
CONFIG_FILE = "precimed.toml"


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: object
    help: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("home", Path, Path("precimed-home"),
            "Platform home: holds the lake, the operational database, keys and reports."),
    Setting("ops_database_url", str, "",
            "SQLAlchemy URL of the operational database; empty means SQLite in the home."),
    Setting("disclosure_threshold", int, 10,
            "Smallest count that may leave the platform; counts 1 to threshold-1 are suppressed."),
    Setting("disclosure_rounding", int, 5,
            "Rounding base of published counts in the perturbed tier (every role without "
            "row-level access), after cell-key noise; 1 means no rounding."),
    Setting("disclosure_person_years", int, 10,
            "Rounding base of published person-years in the perturbed tier: one person's "
            "follow-up (a few years) is then lost in the rounding of a cell's total, so two "
            "tables one person apart do not give it; rates are computed from the rounded "
            "person-years."),
    Setting("qc_rules", str, "1.0",
            "QC rule set the acceptance gate scores with: built in, or HOME/qc/rulesets/*.toml."),
    Setting("as_of", str, "",
            "Date follow-up, retention and incidence are assessed at (YYYY-MM-DD); empty "
            "means the data cut of the release (or of the lake) being read, never today."),
    Setting("dac_votes", int, 2,
            "Committee members' votes an access request needs before the chair may decide."),
    Setting("dac_chair", str, "",
            "Username of the committee chair who decides access requests; empty: any member."),
    Setting("extract_k_anonymity", int, 5,
            "k of k-anonymity a project extract must reach on its quasi-identifiers (age, "
            "sex, province, region, ethnicity, unshifted dates)."),
    Setting("output_dominance_percent", float, 50.0,
            "Output checking: a published sum is refused when its largest contributor is "
            "more than this percent of it (the (1, k) dominance rule)."),
    Setting("erasure_retention_days", int, 30,
            "Days an erased participant's rows stay in the lake's old files (and the releases "
            "made before) until 'precimed lake vacuum' deletes them."),
    Setting("demo", bool, False,
            "Demo mode: allows embedded defaults that are refused in production."),
    Setting("trusted_proxies", str, "",
            "Addresses or networks (comma-separated, e.g. 10.0.0.5,10.1.0.0/16) of reverse "
            "proxies whose X-Forwarded-For and X-Forwarded-Proto are believed; empty trusts "
            "no one, so the caller is the connecting address."),
    Setting("secure_cookies", bool, False,
            "Mark cookies Secure always (TLS ends before the platform and no trusted proxy "
            "says so); they are Secure anyway when the request came over HTTPS."),
    Setting("public_origins", str, "",
            "Extra origins (comma-separated, e.g. https://precimed.example.org) a browser may "
            "send state changes from, when a proxy rewrites the Host header."),
    Setting("max_upload_bytes", int, 2 * 1024**3,
            "Largest upload (a package zip, a VCF) accepted from the web, in bytes."),
    Setting("max_unpacked_bytes", int, 4 * 1024**3,
            "Largest total size of the files a package zip unpacks to, in bytes."),
    Setting("max_members", int, 1000,
            "Most files (members) a package zip may hold."),
    Setting("max_compression_ratio", int, 200,
            "Largest ratio of a zip member's unpacked to packed size (zip bombs exceed it)."),
    Setting("max_columns", int, 2000,
            "Most columns a data file of a package may have."),
    Setting("max_rows", int, 20_000_000,
            "Most rows a data file of a package may have."),
    Setting("max_line_bytes", int, 1024**2,
            "Longest line (header or record) of a CSV file, in bytes."),
    Setting("max_problems", int, 10_000,
            "Most problems a submission's report lists one by one; the rest are counted."),
    Setting("time_zone", str, "Asia/Shanghai",
            "Time zone (IANA name, e.g. Asia/Shanghai or UTC) the pages show times in, with "
            "the zone named; times are stored in UTC whatever it is."),
)


@dataclass(frozen=True)
class Settings:
    home: Path
    ops_database_url: str
    disclosure_threshold: int
    disclosure_rounding: int
    qc_rules: str
    as_of: str
    dac_votes: int
    dac_chair: str
    extract_k_anonymity: int
    output_dominance_percent: float
    erasure_retention_days: int
    demo: bool
    disclosure_person_years: int = 10
    trusted_proxies: str = ""
    secure_cookies: bool = False
    public_origins: str = ""
    max_upload_bytes: int = 2 * 1024**3
    max_unpacked_bytes: int = 4 * 1024**3
    max_members: int = 1000
    max_compression_ratio: int = 200
    max_columns: int = 2000
    max_rows: int = 20_000_000
    max_line_bytes: int = 1024**2
    max_problems: int = 10_000
    time_zone: str = "Asia/Shanghai"

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def keys_dir(self) -> Path:
        """Keys live beside the lake, never inside it."""
        return self.home / "keys"

    @property
    def pseudonym_key_file(self) -> Path:
        return self.keys_dir / "pseudonym.key"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def cache_dir(self) -> Path:
        """Derived copies that can be rebuilt, e.g. a release's query database."""
        return self.home / "cache"

    @property
    def genotypes_dir(self) -> Path:
        """The genotype store (precimed.genomics) that the Beacon and reference serve."""
        return self.home / "genotypes"

    @property
    def sharing_dir(self) -> Path:
        """Access requests' documents (ethics approvals): in the home, never the lake."""
        return self.home / "sharing"

    @property
    def qc_rules_dir(self) -> Path:
        """The platform's own QC rule sets, beside the built-in ones."""
        return self.home / "qc" / "rulesets"

    @property
    def projects_dir(self) -> Path:
        """Project workspaces: extracts cut for a project and the outputs it submits."""
        return self.home / "projects"

    @property
    def as_of_given(self) -> dt.date | None:
        """The as-of date set explicitly, or None: then results are assessed at the data
        cut of what they read (``precimed.lake.Snapshot.as_of``)."""
        if not self.as_of:
            return None
        try:
            return dt.date.fromisoformat(self.as_of)
        except ValueError:
            raise UserError(f"Setting as_of is not a date: {self.as_of!r}", where="as_of",
                            hint="Write it as YYYY-MM-DD, or leave it empty for the data "
                                 "cut.") from None

    @property
    def action_date(self) -> dt.date:
        """The day a governance action happens (a decision, an access check): the as_of
        setting when pinned, else the clock. The date of an event, never a result's as-of
        date, which comes from the release's data cut."""
        return self.as_of_given or dt.date.today()

    @property
    def zone(self) -> ZoneInfo:
        """The platform's time zone (setting time_zone), for showing stored UTC times."""
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(f"Setting time_zone is not a known time zone: {self.time_zone!r}",
                            where="time_zone",
                            hint="Use an IANA name such as Asia/Shanghai, Asia/Urumqi or "
                                 "UTC.") from None

    @property
    def audit_key_file(self) -> Path:
        """The audit chain's HMAC key: outside the database, so whoever can write the
        database alone cannot rewrite the chain."""
        return self.keys_dir / "audit.key"

    @property
    def audit_anchor_file(self) -> Path:
        """The audit chain's head, signed with the audit key after every event: one per
        operational database (a home whose database moves to PostgreSQL starts a new one)."""
        if not self.ops_database_url:
            return self.keys_dir / "audit.anchor"
        import hashlib

        database = hashlib.sha256(self.ops_database_url.encode()).hexdigest()[:12]
        return self.keys_dir / f"audit-{database}.anchor"

    @property
    def database_url(self) -> str:
        return self.ops_database_url or f"sqlite:///{self.home / 'ops.sqlite3'}"


def local_time(value: str | dt.datetime | None, zone: dt.tzinfo) -> str:
    """A stored time (UTC; ISO text or a datetime, naive meaning UTC as SQLite gives it
    back) in a zone, the platform's (:attr:`Settings.zone`), with the zone named:
    ``2026-12-07 18:05 CST``. For people; files and the API keep UTC."""
    if value is None or value == "":
        return "—"
    at = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    at = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _coerce(setting: Setting, raw: object, source: str) -> object:
    try:
        if setting.type is bool and isinstance(raw, str):
            lowered = raw.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            return lowered in {"1", "true", "yes", "on"}
        if setting.type is bool:
            if not isinstance(raw, bool):
                raise ValueError(raw)
            return raw
        return setting.type(raw)
    except (TypeError, ValueError):
        raise UserError(
            f"Setting {setting.name} has an invalid value",
            where=source,
            hint=f"{setting.name} takes a {setting.type.__name__}: {setting.help}",
        ) from None


def load_settings(
    arguments: Mapping[str, object] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from arguments, the environment and the home's config file."""
    arguments = {k: v for k, v in (arguments or {}).items() if v is not None}
    environ = os.environ if environ is None else environ
    by_name = {s.name: s for s in SETTINGS}

    def explicit(name: str) -> tuple[object, str] | None:
        if name in arguments:
            return arguments[name], f"argument --{name.replace('_', '-')}"
        env = by_name[name].env
        if env in environ:
            return environ[env], f"environment variable {env}"
        return None

    found = explicit("home")
    home = Path(str(found[0])) if found else Path(str(by_name["home"].default))
    file_values = _read_config(home / CONFIG_FILE)

    values: dict[str, object] = {"home": home.resolve()}
    for setting in SETTINGS[1:]:
        found = explicit(setting.name)
        if found is None and setting.name in file_values:
            found = (file_values[setting.name], f"{home / CONFIG_FILE}")
        values[setting.name] = (
            setting.default if found is None else _coerce(setting, found[0], found[1])
        )
    settings = Settings(**values)
    if settings.disclosure_threshold < 2:
        raise UserError(
            "The disclosure threshold must be at least 2",
            where="setting disclosure_threshold",
            hint="Use the programme's default of 10 unless your committee decided otherwise.",
        )
    if settings.dac_votes < 1:
        raise UserError("The committee needs at least one vote", where="setting dac_votes",
                        hint="Set dac_votes to the number of members who must vote.")
    if settings.extract_k_anonymity < 2:
        raise UserError("k-anonymity of extracts must be at least 2",
                        where="setting extract_k_anonymity",
                        hint="k = 1 would let an extract hold a person alone in a class.")
    if not 0 < settings.output_dominance_percent <= 100:
        raise UserError("The dominance percent must be above 0 and at most 100",
                        where="setting output_dominance_percent", hint="The default is 50.")
    if settings.erasure_retention_days < 0:
        raise UserError("The erasure retention must be 0 days or more",
                        where="setting erasure_retention_days", hint="The default is 30.")
    if settings.disclosure_person_years < 1:
        raise UserError(
            "The person-years rounding base must be at least 1",
            where="setting disclosure_person_years",
            hint="Use 1 to round to whole person-years, 10 (the default) to the nearest 10.",
        )
    settings.zone  # noqa: B018 -- an unknown time zone is refused at start, not per page
    if settings.disclosure_rounding < 1:
        raise UserError(
            "The disclosure rounding base must be at least 1",
            where="setting disclosure_rounding",
            hint="Use 1 for no rounding, 5 (the default) to round to the nearest 5.",
        )
    return settings


def _read_config(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"The config file is not valid TOML: {exc}", where=str(path),
                        hint="Fix the file or remove it to use the defaults.") from None
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UserError(f"Unknown setting {unknown[0]!r} in the config file", where=str(path),
                        hint="Known settings: " + ", ".join(sorted(known - {"home"})))
    return data
