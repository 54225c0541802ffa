"""The data access committee: votes, then the chair's decision.

A submitted request enters review (a new round) with the first vote. Members vote
approve / reject / return / abstain with a reason; a member voting again in the round is
counted by the newest vote. Once ``dac_votes`` members have voted, the chair (setting
``dac_chair``; empty: any member) decides with a reason, and on approval sets the date
handling of extracts, whether k-anonymity may coarsen, added conditions and the expiry.

What a decision can not do: approve a use the match found inconsistent with a dataset's
conditions (the conditions come from the participants' consent), or make a request active
while a human-genetic-resource record is missing (``precimed.sharing.rules``): an approval
then waits in ``approved`` until the record is there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from precimed.errors import Conflict, Forbidden, UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.ops.db import AccessRequest, DacVote, OpsDatabase
from precimed.sharing import requests
from precimed.standard.duo import parse_conditions
from precimed.standard.sharing import DATE_HANDLING, DECISION_STATUS, VOTE


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _reviewer(principal: Principal) -> None:
    if not principal.can("sharing.review"):
        raise Forbidden("Your roles do not allow sharing.review", where="request",
                        hint="Only committee members vote and decide.")


def votes(ops: OpsDatabase, request_id: str, *, review_round: int | None = None,
          ) -> list[DacVote]:
    """The counted votes of a round (each member's newest), in voting order."""
    with ops.session() as session:
        record = session.get(AccessRequest, request_id)
        wanted = record.review_round if review_round is None else review_round
        rows = list(session.scalars(select(DacVote).where(
            DacVote.request_id == request_id, DacVote.review_round == wanted)
            .order_by(DacVote.id)))
    newest = {v.voter: v for v in rows}
    return sorted(newest.values(), key=lambda v: v.id)


def vote(ops: OpsDatabase, request_id: str, choice: str, *, principal: Principal,
         reason: str = "", client: str = "") -> list[DacVote]:
    """Cast (or change) a member's vote; the first vote of a round opens the review."""
    _reviewer(principal)
    current = requests.get(ops, request_id, principal=principal)
    if choice not in VOTE:
        raise UserError(f"Unknown vote {choice[:20]!r}", where="vote",
                        hint="Vote " + ", ".join(VOTE.codes) + ".")
    if current.applicant_id == principal.user_id:
        raise Forbidden("The applicant can not vote on their own request", where="vote",
                        hint="Another committee member votes.")
    if choice in {"reject", "return"} and not reason.strip():
        raise UserError("A vote to reject or return needs a reason", where="reason",
                        hint="Say what is wrong or what to change.")
    if current.status == "submitted":
        requests.transition(ops, request_id, "under_review", actor=principal.username,
                            client=client, review_round=current.review_round + 1)
    elif current.status != "under_review":
        raise Conflict(f"A request that is {current.status} takes no votes", where="vote",
                       hint="Votes are cast on submitted requests under review.")
    with ops.session() as session, session.begin():
        record = session.get(AccessRequest, request_id)
        session.add(DacVote(request_id=request_id, review_round=record.review_round,
                            voter=principal.username, vote=choice, reason=reason,
                            at=_now()))
    audit.record(ops, actor=principal.username, action="sharing.vote", outcome="ok",
                 resource=f"access request {request_id}", client=client,
                 detail={"vote": choice})
    return votes(ops, request_id)


@dataclass(frozen=True)
class Approval:
    """What an approval fixes for the project."""

    date_handling: str = "shifted"
    coarsen_allowed: bool = False
    conditions: tuple[str, ...] = ()
    expires_on: dt.date | None = None  # default: decision date + requested months


def decide(ops: OpsDatabase, request_id: str, decision: str, *, principal: Principal,
           reason: str, on: dt.date, quorum: int, chair: str = "",
           approval: Approval | None = None, client: str = "") -> AccessRequest:
    """The chair decides (approve / reject / return) on a date, with a reason.

    An approval with every human-genetic-resource record in place makes the request
    active at once; otherwise it stays approved until the record is made."""
    _reviewer(principal)
    current = requests.get(ops, request_id, principal=principal)
    _check_decision(ops, current, decision, principal=principal, reason=reason,
                    quorum=quorum, chair=chair)
    fields: dict = {"decided_on": on, "decision_reason": reason}
    if decision == "approve":
        fields |= _approval_fields(current, approval or Approval(), on=on)
    requests.transition(ops, request_id, DECISION_STATUS[decision],
                        actor=principal.username, reason=reason, client=client, **fields)
    if decision == "approve":
        check = requests.hgr_state(ops, requests.get(ops, request_id, principal=principal))
        if not check.blocked:
            requests.activate(ops, request_id, actor=principal.username, on=on,
                              client=client)
        else:
            audit.record(ops, actor=principal.username, action="sharing.request.blocked",
                         outcome="ok", resource=f"access request {request_id}",
                         client=client, detail={"hgr": check.state})
    return requests.get(ops, request_id, principal=principal)


def _check_decision(ops: OpsDatabase, current: AccessRequest, decision: str, *,
                    principal: Principal, reason: str, quorum: int, chair: str) -> None:
    if decision not in DECISION_STATUS:
        raise UserError(f"Unknown decision {decision[:20]!r}", where="decision",
                        hint="Decide approve, reject or return.")
    if chair and principal.username != chair:
        raise Forbidden("Only the committee chair decides", where="decision",
                        hint="The chair records the decision after the votes.")
    if current.status != "under_review":
        raise Conflict(f"A request that is {current.status} can not be decided",
                       where="decision", hint="Decide requests under review.")
    counted = [v for v in votes(ops, current.id) if v.vote != "abstain"]
    if len(counted) < quorum:
        raise Conflict(f"The request has {len(counted)} of the {quorum} votes needed",
                       where="decision", hint="Wait for the committee members' votes.")
    if not reason.strip():
        raise UserError("A decision needs a reason", where="reason",
                        hint="Say why, in a sentence the applicant can read.")
    if decision == "approve" and current.match.get("result") == "inconsistent":
        raise Conflict("The request's use is inconsistent with a dataset's data-use "
                       "conditions; the committee can not approve it", where="decision",
                       hint="Return it for changes (e.g. drop the dataset or the "
                            "conflicting use) or reject it.")


def _approval_fields(current: AccessRequest, approval: Approval, *, on: dt.date) -> dict:
    if approval.date_handling not in DATE_HANDLING:
        raise UserError(f"Unknown date handling {approval.date_handling[:20]!r}",
                        where="date_handling",
                        hint="Choose " + ", ".join(DATE_HANDLING.codes) + ".")
    added = parse_conditions(list(approval.conditions), where="conditions")
    if any(c.term.kind == "permission" for c in added):
        raise UserError("Conditions added by the committee are DUO modifiers",
                        where="conditions", hint="Add e.g. PUB, RTN, COL, TS:<date>.")
    expires = approval.expires_on or requests.add_months(on, current.duration_months)
    if expires <= on:
        raise UserError("The expiry is not after the decision date", where="expires_on",
                        hint="Give a later date.")
    return {"date_handling": approval.date_handling,
            "coarsen_allowed": approval.coarsen_allowed,
            "approved_conditions": [str(c) for c in added], "expires_on": expires}
