"""What happened to a port-out, in words: its timeline and the account's recent activity.

Three sources describe the same history: Telnyx's events, the cached comments and our own
review actions (the audit trail). A comment shows in all three (the ReviewAction that
posted it, the Comment row Telnyx returned, the `portout.new_comment` event), so entries
are merged by the Telnyx comment id: one comment, one entry. A port-out's timeline also
shows its alerts and the team's internal notes (marked internal: kept in the dashboard,
never sent to Telnyx). The functions return plain data (`TimelineEntry`); the templates
render it.

One module of some 440 lines because it is one concern, the words of one history: the
status steps, the comment authors and the action titles are read together when the three
sources are merged, and both the port-out's timeline and the recent activity use them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from portouts import desk
from portouts.choices import (
    DocumentType,
    EventType,
    OutcomeLabel,
    PortOutStatus,
    ReviewActionKind,
)
from portouts.choices import event_label as _event_type_label
from portouts.models import Comment, PortOut, PortOutEvent, RejectionCode, ReviewAction
from portouts.risk.selectors import confirmation_timeline
from portouts.versions import version_cached

REJECTED = {PortOutStatus.REJECTED_PENDING.value, PortOutStatus.REJECTED.value}
PENDING = PortOutStatus.PENDING.value
DOCUMENT_NAMES = {DocumentType.LOA.value: "LOA", DocumentType.INVOICE.value: "invoice"}
#: Titles of our actions: (when Telnyx accepted it, when it failed or is still open).
ACTION_TITLES = {
    ReviewActionKind.AUTHORIZE.value: ("Authorized", "Authorize"),
    ReviewActionKind.REJECT.value: ("Rejected with code {code}", "Reject with code {code}"),
    ReviewActionKind.COMMENT.value: ("Commented", "Comment"),
    ReviewActionKind.UPLOAD.value: (
        "Uploaded {document} {filename}",
        "Upload {document} {filename}",
    ),
    ReviewActionKind.REPUBLISH.value: ("Republished an event", "Republish an event"),
    ReviewActionKind.LABEL.value: ("Outcome labelled: {label}", "Label outcome: {label}"),
}
OUTCOME_LABELS = {
    ReviewAction.Outcome.FAILED.value: "Failed",
    ReviewAction.Outcome.STARTED.value: "No answer from Telnyx yet",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a timeline or of the recent activity, every part already in words."""

    kind: str  # "event", "comment", "review", "alert", "note" or "confirmation"
    at: datetime | None
    portout_id: str
    title: str
    body: str = ""
    actor: str = ""
    #: "" when done; "failed" or "started" for one of our actions Telnyx did not accept
    outcome: str = ""
    outcome_label: str = ""
    note: str = ""
    portout_label: str = ""
    #: the team's own words, kept in the dashboard and never sent to Telnyx (internal notes)
    internal: bool = False

    @property
    def sort_key(self) -> tuple[float, str]:
        return (self.at.timestamp() if self.at else 0.0, self.kind)


@dataclass(frozen=True)
class PortoutHistory:
    """A port-out's timeline (newest first) and the PIN of its latest status event."""

    entries: list[TimelineEntry]
    #: `attempted_pin` of the latest `portout.status_changed` event; "" when none was given
    attempted_pin: str


def _inputs(a: ReviewAction) -> dict[str, Any]:
    return a.inputs if isinstance(a.inputs, dict) else {}


def _payload(ev: PortOutEvent) -> dict[str, Any]:
    return ev.payload if isinstance(ev.payload, dict) else {}


def _event_at(ev: PortOutEvent) -> datetime | None:
    return ev.created_at or ev.received_at


def _time_order(ev: PortOutEvent) -> tuple[float, str]:
    at = _event_at(ev)
    return (at.timestamp() if at else 0.0, ev.id)


def _comment_id(ev: PortOutEvent) -> str:
    """The Telnyx comment a `portout.new_comment` event announces ("" for other events)."""
    if ev.event_type != EventType.NEW_COMMENT:
        return ""
    return str(_payload(ev).get("id") or "")


# -- status changes ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What entries need besides the events: the port-outs (their user, their codes) and our
    rejections."""

    portouts: dict[str, PortOut]
    code_names: dict[tuple[str, int], str]
    rejections: dict[str, list[ReviewAction]]  # succeeded reject actions, oldest first

    def owner(self, portout_id: str) -> str:
        """The port-out's `user_id` (the account's user), "" when it is not known."""
        portout = self.portouts.get(portout_id)
        return portout.user_id if portout is not None else ""


def _status_steps(events: Iterable[PortOutEvent]) -> dict[str, tuple[str, str]]:
    """(from, to) of every status event, by event id.

    The rule: `to` is the payload's `status` (never the event's `payload_status`, which is
    the delivery state of the event); `from` is the `to` of the port-out's previous status
    event in time order. Telnyx opens every port-out pending, so before its first status
    event a port-out was pending, and a first event to pending is the opening itself
    (from ""). An event without a status in its payload has no step ("", "") and leaves
    the sequence as it was.
    """
    by_portout: dict[str, list[PortOutEvent]] = {}
    for ev in events:
        if ev.event_type == EventType.STATUS_CHANGED:
            by_portout.setdefault(ev.portout_id, []).append(ev)
    steps: dict[str, tuple[str, str]] = {}
    for evs in by_portout.values():
        evs.sort(key=_time_order)
        current = ""
        for ev in evs:
            to = str(_payload(ev).get("status") or "")
            if not to:
                steps[ev.id] = ("", "")
                continue
            before = current or ("" if to == PENDING else PENDING)
            steps[ev.id] = (before, to)
            current = to
    return steps


def _rejection_code(ev: PortOutEvent, ctx: _Context) -> int | None:
    """The code of a rejection: our latest accepted reject up to the event, else the code
    Telnyx holds on the port-out now."""
    at = _event_at(ev)
    code = None
    for action in ctx.rejections.get(ev.portout_id, []):
        if at is None or action.created_at <= at:
            code = _inputs(action).get("rejection_code")
    if code is None and ev.portout_id in ctx.portouts:
        code = ctx.portouts[ev.portout_id].rejection_code
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def _status_title(ev: PortOutEvent, step: tuple[str, str], ctx: _Context) -> str:
    """ "Status: pending → rejected-pending (code 1002, Invalid PIN: reason …)"."""
    before, after = step
    if not after:
        return "Status changed (Telnyx did not say to what)"
    if not before:
        return f"Status: {after} (request received)"
    title = f"Status: {before} → {after}" if before != after else f"Status: still {after}"
    if after not in REJECTED:
        return title
    parts = []
    code = _rejection_code(ev, ctx)
    if code is not None:
        name = ctx.code_names.get((ev.portout_id, code), "")
        parts.append(f"code {code}, {name}" if name else f"code {code}")
    reason = str(_payload(ev).get("rejection_reason") or "").strip()
    if reason:
        parts.append(f"reason {reason}")
    return f"{title} ({': '.join(parts)})" if parts else title


def _event_entry(ev: PortOutEvent, step: tuple[str, str], ctx: _Context) -> TimelineEntry:
    payload = _payload(ev)
    body = ""
    if ev.event_type == EventType.STATUS_CHANGED:
        title = _status_title(ev, step, ctx)
        pin = payload.get("attempted_pin")
        body = f"PIN given: {pin}" if pin not in (None, "") else "No PIN given"
    elif ev.event_type == EventType.FOC_DATE_CHANGED and payload.get("foc_date"):
        title = f"FOC date changed to {str(payload['foc_date'])[:10]}"
    else:
        title = _event_type_label(ev.event_type)
    return TimelineEntry(
        kind="event",
        at=_event_at(ev),
        portout_id=ev.portout_id,
        title=title,
        body=body,
        actor="Telnyx",
    )


# -- comments ------------------------------------------------------------------------------


def _comment_author(user_id: str | None, owner: str, action: ReviewAction | None) -> str:
    """The reviewer when our audit trail posted the comment, else `Comment.author`'s label."""
    if action is not None:
        return action.user.get_username()
    return Comment.author(user_id, owner).label


def _comment_entries(
    comments: Iterable[Comment],
    events: Iterable[PortOutEvent],
    actions: Iterable[ReviewAction],
    ctx: _Context,
) -> tuple[list[TimelineEntry], set[int]]:
    """One entry per Telnyx comment id, and the ids of the comment actions merged into one.

    The Comment row gives the text and time; the event stands in for a comment the cache
    has not read yet; the action that posted it, or else the port-out's user, the author."""
    posted = {
        str(a.response.get("id")): a
        for a in actions
        if a.kind == ReviewActionKind.COMMENT
        and a.outcome == ReviewAction.Outcome.SUCCEEDED
        and isinstance(a.response, dict)
        and a.response.get("id")
    }
    entries: dict[str, TimelineEntry] = {}
    for c in comments:
        action = posted.get(c.id)
        entries[c.id] = TimelineEntry(
            kind="comment",
            at=c.created_at,
            portout_id=c.portout_id,
            title="Comment",
            body=c.body,
            actor=_comment_author(c.user_id, ctx.owner(c.portout_id), action),
        )
    for ev in events:
        payload = _payload(ev)
        comment_id = _comment_id(ev)
        if not comment_id or comment_id in entries:
            continue
        action = posted.get(comment_id)
        entries[comment_id] = TimelineEntry(
            kind="comment",
            at=_event_at(ev),
            portout_id=ev.portout_id,
            title="Comment",
            body=str(payload.get("comment") or ""),
            actor=_comment_author(payload.get("user_id"), ctx.owner(ev.portout_id), action),
        )
    for comment_id, action in posted.items():
        if comment_id not in entries:  # posted, but neither the row nor its event is cached
            entries[comment_id] = TimelineEntry(
                kind="comment",
                at=action.created_at,
                portout_id=action.portout_id or "",
                title="Comment",
                body=str(_inputs(action).get("body") or ""),
                actor=action.user.get_username(),
            )
    return list(entries.values()), {a.pk for a in posted.values()}


# -- our actions ---------------------------------------------------------------------------


def action_title(a: ReviewAction) -> str:
    """ "Authorized", "Rejected with code 1002", "Uploaded LOA loa.pdf" (or the attempt's
    wording, "Reject with code 1002", when Telnyx did not accept it)."""
    done, attempt = ACTION_TITLES.get(a.kind, (a.get_kind_display(), a.get_kind_display()))
    inputs = _inputs(a)
    template = done if a.outcome == ReviewAction.Outcome.SUCCEEDED else attempt
    document = DOCUMENT_NAMES.get(str(inputs.get("document_type", "")), "document")
    title = template.format(
        code=inputs.get("rejection_code", "?"),
        document=document,
        filename=inputs.get("filename", ""),
        label=_outcome_label(str(inputs.get("label", ""))),
    )
    return title.strip()


def _outcome_label(value: str) -> str:
    return str(OutcomeLabel(value).label) if value in OutcomeLabel.values else value


def _action_entry(a: ReviewAction) -> TimelineEntry:
    inputs = _inputs(a)
    body = str(inputs.get("reason") or inputs.get("body") or "")
    if a.outcome == ReviewAction.Outcome.FAILED and a.error:
        body = f"{body}\n{a.error}".strip()
    note = "Host messaging kept on Telnyx" if inputs.get("host_messaging") else ""
    return TimelineEntry(
        kind="review",
        at=a.created_at,
        portout_id=a.portout_id or "",
        title=action_title(a),
        body=body,
        actor=a.user.get_username(),
        outcome=a.outcome if a.outcome != ReviewAction.Outcome.SUCCEEDED else "",
        outcome_label=OUTCOME_LABELS.get(a.outcome, ""),
        note=note,
    )


# -- assembling ----------------------------------------------------------------------------


def _context(
    portouts: Iterable[PortOut], actions: Iterable[ReviewAction], events: Iterable[PortOutEvent]
) -> _Context:
    """Codes are named only when a status event announces a rejection (one query then)."""
    rows = {p.id: p for p in portouts}
    rejections: dict[str, list[ReviewAction]] = {}
    for a in sorted(actions, key=lambda a: a.created_at):
        if a.kind == ReviewActionKind.REJECT and a.outcome == ReviewAction.Outcome.SUCCEEDED:
            rejections.setdefault(a.portout_id or "", []).append(a)
    rejected = {
        e.portout_id
        for e in events
        if e.event_type == EventType.STATUS_CHANGED and _payload(e).get("status") in REJECTED
    }
    codes = RejectionCode.objects.filter(portout_id__in=[p for p in rows if p in rejected])
    names = (
        {(p, c): d for p, c, d in codes.values_list("portout_id", "code", "description")}
        if rejected
        else {}
    )
    return _Context(portouts=rows, code_names=names, rejections=rejections)


def _entries(
    *,
    shown_events: list[PortOutEvent],
    status_events: list[PortOutEvent],
    comments: list[Comment],
    actions: list[ReviewAction],
    ctx: _Context,
) -> list[TimelineEntry]:
    """Every entry, newest first; `status_events` may reach further back than
    `shown_events` so the first shown status change still knows where it came from."""
    steps = _status_steps(status_events)
    comment_entries, merged = _comment_entries(comments, shown_events, actions, ctx)
    items = (
        [
            _event_entry(e, steps.get(e.id, ("", "")), ctx)
            for e in shown_events
            if not _comment_id(e)
        ]
        + comment_entries
        + [_action_entry(a) for a in actions if a.pk not in merged]
    )
    items.sort(key=lambda i: i.sort_key, reverse=True)
    return items


def _alert_entries(portout_id: str) -> list[TimelineEntry]:
    """Alerts sent about the port-out ("Alerted #porting on Slack, 2h"): one query."""
    from portouts.alerts.selectors import alert_timeline_items

    return alert_timeline_items(portout_id)


def _note_entries(portout_id: str) -> list[TimelineEntry]:
    """The team's internal notes on the port-out, marked internal: one query."""
    return [TimelineEntry(**entry) for entry in desk.internal_note_entries(portout_id=portout_id)]


def portout_history(*, portout: PortOut) -> PortoutHistory:
    """The timeline of one port-out, newest first, in a fixed number of queries whatever its
    length: events, comments, actions, alerts, internal notes and the end user's
    confirmation (one more when it was rejected: the codes' names)."""
    events = list(PortOutEvent.objects.filter(portout_id=portout.id))
    comments = list(Comment.objects.filter(portout_id=portout.id).defer("raw"))
    actions = list(ReviewAction.objects.filter(portout_id=portout.id).select_related("user"))
    ctx = _context([portout], actions, events)
    entries = _entries(
        shown_events=events, status_events=events, comments=comments, actions=actions, ctx=ctx
    )
    entries += [
        TimelineEntry(kind="confirmation", portout_id=portout.id, **c)
        for c in confirmation_timeline(portout=portout)
    ]
    entries = sorted(
        entries + _alert_entries(portout.id) + _note_entries(portout.id),
        key=lambda i: i.sort_key,
        reverse=True,
    )
    status_events = sorted(
        (e for e in events if e.event_type == EventType.STATUS_CHANGED), key=_time_order
    )
    pin = _payload(status_events[-1]).get("attempted_pin") if status_events else None
    return PortoutHistory(entries=entries, attempted_pin="" if pin is None else str(pin))


def recent_activity(*, version: str, limit: int = 15) -> list[TimelineEntry]:
    """The latest events, comments and review actions across the account, newest first,
    with the same words as a port-out's timeline. Its five queries run once per cache
    version (`selectors.cache_version`), not on every queue page."""
    return version_cached(
        f"portouts:recent-activity:{limit}:{version}",
        lambda: _recent_activity(limit),
        kind=list,
    )


def _recent_activity(limit: int) -> list[TimelineEntry]:
    events = list(
        PortOutEvent.objects.defer("available_notification_methods").order_by("-created_at")[:limit]
    )
    comments = list(Comment.objects.defer("raw").order_by("-created_at")[:limit])
    actions = list(ReviewAction.objects.select_related("user").order_by("-created_at")[:limit])
    ids = {e.portout_id for e in events} | {c.portout_id for c in comments}
    ids |= {a.portout_id for a in actions if a.portout_id}
    portouts = list(
        PortOut.objects.filter(id__in=ids).only("id", "support_key", "rejection_code", "user_id")
    )
    status_ids = {e.portout_id for e in events if e.event_type == EventType.STATUS_CHANGED}
    history = list(
        PortOutEvent.objects.filter(
            portout_id__in=status_ids, event_type=EventType.STATUS_CHANGED
        ).only("id", "portout_id", "event_type", "payload", "created_at", "received_at")
    )
    entries = _entries(
        shown_events=events,
        status_events=history,
        comments=comments,
        actions=actions,
        ctx=_context(portouts, actions, events),
    )[:limit]
    keys = {p.id: p.support_key for p in portouts}
    return [replace(i, portout_label=keys.get(i.portout_id) or i.portout_id) for i in entries]
