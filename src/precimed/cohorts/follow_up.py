"""Follow-up status of every participant, retention by wave, and centres' worklists.

Every function takes the DuckDB connection of a lake snapshot
(``Lake(settings.lake_dir).snapshot(release).connect()``), builds Ibis expressions over
the standard tables and returns a pandas DataFrame; no Python loops over rows. Only rows
dated on or before ``as_of`` are read, so a past ``as_of`` reproduces what was known then.

Definitions (the platform's documented definitions of follow-up and loss):

Waves
    Follow-up wave w (w = 1, 2, ...) of a participant falls due on
    ``enrolment_date + floor(w × 365.25)`` days. A wave is *closed* at ``as_of`` once its
    grace period has passed: ``due_date + grace_days <= as_of`` (default grace 180 days).
    A wave's *window* opens half a wave interval (182 days) before its due date. Only the
    protocol's waves count: ``waves`` of them if given, else the cohort's protocol in the
    standard (:attr:`precimed.standard.cohorts.Cohort.follow_up_waves`), never the waves a
    centre happened to submit: a centre that stops following people up shows them lost.
    After the last wave, active follow-up ends and nobody becomes lost for want of a
    contact.

Tracing evidence
    Evidence that a participant was alive and traced: a follow-up contact with outcome
    ``reached``, a visit, a measurement, or an endpoint event from any source (hospital
    record, insurance claim, registry, self-report). ``last_traced`` is the latest date of
    such evidence, never earlier than enrolment and never later than death; a participant
    without any was last traced at enrolment. Contacts that ended ``not_reached``,
    ``refused`` or ``moved`` are attempts, not evidence of being traced.

Traced at wave w
    There is tracing evidence labelled with wave w or a later wave (a reached contact, a
    visit or a measurement of that wave), or tracing evidence of any kind dated on or after
    wave w's window opening. Being traced at a wave implies being traced at every earlier
    wave.

Death
    The earliest death record on or before ``as_of``; without one, the date of the first
    contact with outcome ``deceased`` (an upper bound of the death date).

LOST
    A participant is lost to follow-up at ``as_of`` when they are not known to have died
    by ``as_of``, at least one of their waves is closed, and they were not traced at their
    latest closed wave. In words: their most recent follow-up wave fell due more than
    ``grace_days`` before ``as_of``, and since half a wave interval before that wave fell
    due there has been no reached contact, visit, measurement or linkage record of them.
    As in cohort epidemiology, the dead are never lost: their vital status is known from
    the death registry, whenever they died.

Observation
    Observation ends at death for the dead (death registries trace everyone, lost or not),
    at ``last_traced`` for the lost, and at ``as_of`` for everyone else; ``person_years`` is
    (end − enrolment) in days / 365.25.

Retention
    The same definition, wave by wave. At each closed wave, among participants alive at
    the wave's due date (``due``), each is ``reached`` (traced at the wave), ``died`` (not
    traced at the wave and known dead by ``as_of``, whether they died before the wave
    closed or after) or ``lost`` (neither). ``newly_lost`` are lost at the wave but traced
    at the one before. The cumulative loss at wave w is lost / (reached + lost). A
    participant is lost in :func:`observation` exactly when they are lost at their latest
    closed wave, and never when they are known dead: a participant not traced since wave 2
    and later found in the death registry counts as died, not lost, at every wave, and
    :func:`observation` ends their follow-up at death.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis import _

from precimed.deid.cellkey import KEY_SPACE
from precimed.standard.cohorts import COHORTS

YEAR_DAYS = 365.25  # one wave interval
WINDOW_DAYS = 182  # a wave's window opens this many days before it falls due
GRACE_DAYS = 180
TARGET_FOUR_YEAR_LOSS = 0.08  # the programme's target: at most 8% lost in four years

DEATH, LOST, END_OF_FOLLOW_UP = "death", "lost", "end of follow-up"

OBSERVATION_COLUMNS = (
    "pseudonym", "centre", "cohort", "region", "sex", "birth_year_month", "enrolment_date",
    "last_traced", "death_date", "end_date", "end_reason", "lost", "person_years",
)
PERSON_TIME_COLUMNS = ("pseudonym", "enrolment_date", "end_date", "end_reason", "person_years")
WAVE_STATUS_COLUMNS = (
    "pseudonym", "cohort", "centre", "wave", "due_date", "contacted", "reached", "died",
    "lost", "newly_lost",
)
WORKLIST_COLUMNS = (
    "pseudonym", "wave", "due_date", "days_overdue", "missed_waves", "last_traced",
    "last_outcome", "lost",
)


# -- public API ---------------------------------------------------------------------------
def observation(con: ibis.BaseBackend, *, as_of: dt.date,
                grace_days: int = GRACE_DAYS, waves: int | None = None) -> pd.DataFrame:
    """One row per participant enrolled by ``as_of``: follow-up status and person-time.

    Columns: pseudonym, centre, cohort, region, sex, birth_year_month, enrolment_date,
    last_traced, death_date, end_date, end_reason ("death", "lost", "end of follow-up"),
    lost, person_years. Ordered by centre, then pseudonym.
    """
    status = _status(con, _day(as_of), grace_days, waves)
    return _run(status.select(*OBSERVATION_COLUMNS).order_by("centre", "pseudonym"))


def person_time(con: ibis.BaseBackend, *, as_of: dt.date,
                grace_days: int = GRACE_DAYS, waves: int | None = None) -> pd.DataFrame:
    """Per participant: enrolment_date, end_date, end_reason and person_years."""
    status = _status(con, _day(as_of), grace_days, waves)
    return _run(status.select(*PERSON_TIME_COLUMNS).order_by("pseudonym"))


def wave_status(con: ibis.BaseBackend, *, as_of: dt.date,
                grace_days: int = GRACE_DAYS, waves: int | None = None) -> pd.DataFrame:
    """One row per participant and closed wave at which they were alive when it fell due.

    Columns: pseudonym, cohort, centre, wave, due_date, contacted (an attempt was recorded
    for the wave), reached, died, lost, newly_lost (see the module's definitions).
    """
    cut = _day(as_of)
    status = _status(con, cut, grace_days, waves)
    grid = _grid(con, status, cut, grace_days, _closed_waves(con, status))
    return _run(grid.select(*WAVE_STATUS_COLUMNS).order_by("centre", "pseudonym", "wave"))


def retention(con: ibis.BaseBackend, *, as_of: dt.date, grace_days: int = GRACE_DAYS,
              target: float = TARGET_FOUR_YEAR_LOSS, years: int = 4,
              waves: int | None = None, keys: str | None = None) -> pd.DataFrame:
    """Per cohort, centre and closed wave: due, contacted, reached, died, lost, newly_lost
    and cumulative_loss (lost / (reached + lost)).

    ``flag`` marks the row of wave ``years`` whose cumulative loss exceeds ``target``.
    With ``keys``, the name of a registered record-key table
    (:mod:`precimed.deid.cellkey`), the cell keys of due, reached and lost come too
    (``due_key``, ``reached_key``, ``lost_key``: sums of their people's record keys).
    """
    cut = _day(as_of)
    status = _status(con, cut, grace_days, waves)
    grid = _grid(con, status, cut, grace_days, _closed_waves(con, status))
    table = _tally(_keyed(con, grid, keys), "cohort", "centre", "wave")
    table = table.mutate(flag=((table.wave == years) & (table.cumulative_loss > target))
                         .fill_null(False))
    return _run(table.order_by("cohort", "centre", "wave"))


def retention_summary(con: ibis.BaseBackend, *, as_of: dt.date,
                      grace_days: int = GRACE_DAYS, target: float = TARGET_FOUR_YEAR_LOSS,
                      years: int = 4, waves: int | None = None,
                      keys: str | None = None) -> pd.DataFrame:
    """Per centre: cumulative loss at ``years`` years against the target.

    Counted among participants enrolled at least ``years`` years + ``grace_days`` before
    ``as_of`` and alive when wave ``years`` fell due. Columns: cohort, centre,
    participants (enrolled by ``as_of``), eligible (reached + lost at wave ``years``),
    reached, lost, died, loss, loss_se (binomial standard error), target, flag
    (loss > target). A centre with nobody eligible yet has no loss and no flag. With
    ``keys`` (as in :func:`retention`): participants_key, eligible_key and lost_key too.
    """
    cut = _day(as_of)
    status = _status(con, cut, grace_days, waves)
    if keys is None:
        enrolled = status.group_by("cohort", "centre").agg(participants=_.count())
    else:
        keyed = _keyed(con, status, keys)
        enrolled = keyed.group_by("cohort", "centre").agg(participants=_.count(),
                                                          participants_key=_._rk.sum())
    tally = _tally(_keyed(con, _grid(con, status, cut, grace_days, [years]), keys),
                   "cohort", "centre")
    tally = tally.rename(_cohort="cohort", _centre="centre")
    joined = enrolled.left_join(tally, [enrolled.cohort == tally._cohort,
                                        enrolled.centre == tally._centre])
    counts = {c: joined[c].fill_null(0) for c in ("reached", "lost", "died")}
    eligible = counts["reached"] + counts["lost"]
    loss = joined.cumulative_loss
    extra = {} if keys is None else {
        "participants_key": joined.participants_key % KEY_SPACE,
        "eligible_key": (joined.reached_key.fill_null(0) + joined.lost_key.fill_null(0))
        % KEY_SPACE,
        "lost_key": joined.lost_key.fill_null(0) % KEY_SPACE}
    summary = joined.select(
        "cohort", "centre", "participants", eligible=eligible, **counts, **extra, loss=loss,
        loss_se=(loss * (1 - loss) / eligible.nullif(0)).sqrt(),
        target=ibis.literal(target, type="float64"),
        flag=(loss > target).fill_null(False),
    )
    return _run(summary.order_by("cohort", "centre"))


def worklist(con: ibis.BaseBackend, *, centre: str, as_of: dt.date,
             grace_days: int = GRACE_DAYS, waves: int | None = None) -> pd.DataFrame:
    """A centre's living participants with an overdue wave, for its data manager.

    A wave is overdue when it is closed (due date + grace passed) and no reached contact,
    visit or measurement is recorded for it or a later wave. ``wave`` is the first overdue
    wave (the one after the last wave the person was reached at), ``due_date`` its due
    date, ``days_overdue`` the days from it to ``as_of``; ``missed_waves`` counts the closed
    waves with nothing recorded as reached; ``last_outcome`` is the outcome of the latest
    contact attempt; ``lost`` says whether the person is lost (linkage records can show a
    person alive and traced though their wave is overdue). Ordered by days_overdue, then
    missed_waves, both descending.
    """
    cut = _day(as_of)
    status = _status(con, cut, grace_days, waves)
    due = status.filter((status.centre == centre) & status.death_date.isnull()
                        & (status.waves_due >= 1) & (status.last_wave < status.waves_due))
    labelled = (_evidence(con, cut).filter(_.wave >= 1)
                .select(_p=_.pseudonym, _w=_.wave).distinct())
    reached_waves = (due.inner_join(labelled, due.pseudonym == labelled._p)
                     .filter(_._w <= _.waves_due)
                     .group_by(_p2=_.pseudonym).agg(_reached=_.count()))
    latest = _latest_contact(con, cut)
    rows = (due.left_join(reached_waves, due.pseudonym == reached_waves._p2)
            .left_join(latest, _.pseudonym == latest._p3))
    overdue = rows.last_wave + 1
    due_date = _due(rows.enrolment_date, overdue)
    out = rows.select(
        "pseudonym", wave=overdue, due_date=due_date,
        days_overdue=cut.delta(due_date, unit="day"),
        missed_waves=rows.waves_due - rows._reached.fill_null(0),
        last_traced=rows.last_traced, last_outcome=rows.last_outcome, lost=rows.lost,
    )
    return _run(out.order_by(ibis.desc("days_overdue"), ibis.desc("missed_waves"),
                             "pseudonym"))


# -- the definitions as expressions -------------------------------------------------------
def _day(value: dt.date | str) -> ir.DateScalar:
    return ibis.literal(pd.Timestamp(value).date(), type="date")


def _due(enrolment: ir.DateValue, wave: ir.IntegerValue | int) -> ir.DateValue:
    """The date wave ``wave`` falls due: enrolment + floor(wave × 365.25) days."""
    offset = (ibis.literal(YEAR_DAYS) * wave).floor().cast("int32")
    return enrolment + offset.as_interval("D")


def _traced_at(t: ir.Table, wave: ir.IntegerValue) -> ir.BooleanValue:
    """Traced at ``wave``: evidence labelled with it or a later wave, or dated from its
    window opening on (wave 0, enrolment, is always traced)."""
    opens = _due(t.enrolment_date, wave) - ibis.interval(days=WINDOW_DAYS)
    return (t.last_wave >= wave) | (t.last_traced >= opens)


def _evidence(con: ibis.BaseBackend, cut: ir.DateScalar) -> ir.Table:
    """Every dated piece of tracing evidence: pseudonym, day, wave (null if unlabelled)."""
    contact = con.table("follow_up_contact")
    visit, measurement = con.table("visit"), con.table("measurement")
    event = con.table("endpoint_event")
    parts = (
        contact.filter(contact.outcome == "reached")
        .select("pseudonym", day=contact.contact_date, wave=contact.wave.cast("int32")),
        visit.select("pseudonym", day=visit.visit_date, wave=visit.wave.cast("int32")),
        measurement.select("pseudonym", day=measurement.measured_on,
                           wave=measurement.wave.cast("int32")),
        event.select("pseudonym", day=event.event_date, wave=ibis.null("int32")),
    )
    return ibis.union(*parts, distinct=False).filter(_.day <= cut)


def _status(con: ibis.BaseBackend, cut: ir.DateScalar, grace_days: int,
            waves: int | None) -> ir.Table:
    """One row per participant: the participant's fields, last_traced, last_wave,
    death_date, waves_due (closed protocol waves), lost, end_date, end_reason,
    person_years."""
    people = con.table("participant").filter(_.enrolment_date <= cut)
    traced = (_evidence(con, cut)
              .group_by(_p1=_.pseudonym).agg(_last_day=_.day.max(), _last_wave=_.wave.max()))
    contact = con.table("follow_up_contact").filter(_.contact_date <= cut)
    registered = (con.table("death").filter(_.death_date <= cut)
                  .group_by(_p2=_.pseudonym).agg(_registered=_.death_date.min()))
    reported = (contact.filter(contact.outcome == "deceased")
                .group_by(_p3=_.pseudonym).agg(_reported=_.contact_date.min()))
    t = (people.left_join(traced, people.pseudonym == traced._p1)
         .left_join(registered, _.pseudonym == registered._p2)
         .left_join(reported, _.pseudonym == reported._p3))
    if waves is None:  # the protocol's waves, per cohort, from the standard
        protocols = ibis.memtable(pa.table({
            "_c5": pa.array(list(COHORTS), pa.string()),
            "_protocol": pa.array([c.follow_up_waves for c in COHORTS.values()], pa.int32()),
        }))
        t = t.left_join(protocols, _.cohort == protocols._c5)
        protocol = t._protocol.fill_null(0)
    else:
        protocol = ibis.literal(waves, type="int32")
    death = ibis.coalesce(t._registered, t._reported)
    seen = ibis.greatest(t.enrolment_date, t._last_day.fill_null(t.enrolment_date))
    # closed waves: the largest w with floor(w × 365.25) <= days since enrolment - grace
    # (at most the protocol's last wave)
    since = cut.delta(t.enrolment_date, unit="day") - grace_days
    closed = ((since + 1) / YEAR_DAYS).ceil() - 1
    t = t.mutate(
        death_date=death,
        last_traced=ibis.ifelse(death.notnull() & (seen > death), death, seen),
        last_wave=t._last_wave.fill_null(0),
        waves_due=ibis.greatest(ibis.least(closed, protocol), 0).cast("int32"),
    )
    t = t.mutate(lost=t.death_date.isnull() & (t.waves_due >= 1)
                 & ~_traced_at(t, t.waves_due))
    end = ibis.cases((t.death_date.notnull(), t.death_date), (t.lost, t.last_traced),
                     else_=cut)
    reason = ibis.cases((t.death_date.notnull(), DEATH), (t.lost, LOST),
                        else_=END_OF_FOLLOW_UP)
    t = t.mutate(end_date=end, end_reason=reason)
    return t.mutate(person_years=t.end_date.delta(t.enrolment_date, unit="day") / YEAR_DAYS)


def _closed_waves(con: ibis.BaseBackend, status: ir.Table) -> list[int]:
    most = con.execute(status.waves_due.max())
    return list(range(1, int(most) + 1)) if most is not None and not pd.isna(most) else []


def _grid(con: ibis.BaseBackend, status: ir.Table, cut: ir.DateScalar, grace_days: int,
          waves: list[int]) -> ir.Table:
    """Participant × closed wave among those alive when the wave fell due, classified."""
    numbers = ibis.memtable(pa.table({"wave": pa.array(waves, pa.int32())}))
    grid = status.cross_join(numbers).filter(_.wave <= _.waves_due)
    grid = grid.mutate(due_date=_due(grid.enrolment_date, grid.wave))
    grid = grid.filter(grid.death_date.isnull() | (grid.death_date >= grid.due_date))
    contact = con.table("follow_up_contact")
    attempts = (contact.filter(contact.contact_date <= cut)
                .select(_pa=contact.pseudonym, _wa=contact.wave.cast("int32")).distinct())
    grid = grid.left_join(attempts, [grid.pseudonym == attempts._pa,
                                     grid.wave == attempts._wa])
    reached = _traced_at(grid, grid.wave)
    # the dead are not lost, whenever they died (the grid holds deaths up to the cut)
    died = ~reached & grid.death_date.notnull()
    grid = grid.mutate(contacted=grid._pa.notnull(), reached=reached, died=died,
                       lost=~reached & ~died)
    return grid.mutate(newly_lost=grid.lost & _traced_at(grid, grid.wave - 1))


def _keyed(con: ibis.BaseBackend, t: ir.Table, keys: str | None) -> ir.Table:
    """``t`` with each person's record key as ``_rk`` (from the registered table
    ``keys``), or ``t`` as it is without one."""
    if keys is None:
        return t
    k = con.table(keys)
    k = k.select(_kp=k.pseudonym, _rk=k.record_key.cast("int64"))
    return t.left_join(k, t.pseudonym == k._kp).mutate(_rk=_._rk.fill_null(0)).drop("_kp")


def _tally(grid: ir.Table, *by: str) -> ir.Table:
    def count(column: str) -> ir.IntegerScalar:
        return grid[column].cast("int64").sum()

    def key(column: str) -> ir.IntegerScalar:  # the cell key of the people in column
        return (grid._rk * grid[column].cast("int64")).sum() % KEY_SPACE

    extra = {} if "_rk" not in grid.columns else {
        "due_key": grid._rk.sum() % KEY_SPACE, "reached_key": key("reached"),
        "lost_key": key("lost")}
    table = grid.group_by(*by).agg(
        due=_.count(), contacted=count("contacted"), reached=count("reached"),
        died=count("died"), lost=count("lost"), newly_lost=count("newly_lost"), **extra,
    )
    observed = (table.reached + table.lost).nullif(0)
    return table.mutate(cumulative_loss=table.lost / observed)


def _latest_contact(con: ibis.BaseBackend, cut: ir.DateScalar) -> ir.Table:
    """The outcome of each participant's latest contact attempt on or before the cut."""
    contact = con.table("follow_up_contact").filter(_.contact_date <= cut)
    order = [ibis.desc("contact_date"), ibis.desc("wave"), "outcome"]
    ranked = contact.mutate(_rank=ibis.row_number().over(group_by="pseudonym",
                                                         order_by=order))
    return ranked.filter(_._rank == 0).select(_p3=_.pseudonym, last_outcome=_.outcome)


def _run(expr: ir.Table) -> pd.DataFrame:
    return expr.to_pandas()
