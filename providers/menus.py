"""A location's menu, published to every provider branch of it (SPEC §7c).

`menu_publish` keeps the backend's menu as a new version when it changed, and queues a sync through the
outbox (destination = the provider, ordering key `menu:<branch id>`) for each branch that lacks the latest
version: what a branch is sent is decided per (provider, branch) from what that branch has live or on its
way, not from whether the site's menu changed, so a branch linked after the menu was published gets it
with the same menu again, and linking or moving a branch queues what it lacks and drops the queued sync of
its old site (`menu_branches_relinked`). A branch whose sync is still queued gets the newer version instead
of a second sync: the provider is sent only the newest, once its rate limit allows, and once the branch's
previous upload has its result (one upload awaiting a result per branch: Deliveroo's result names the
menu, not the upload, so this is what matches each result to the exact upload it answers).
`providers.calls` sends a sync with `menu_sync_call` (the adapter renders the
provider's shape from the version, with that provider's overrides applied) and records its answer with
`menu_sync_answered`; a provider that answers later (Deliveroo's upload result) finishes it with
`menu_sync_result`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hub import errors
from providers.adapters import ADAPTERS
from providers.adapters.base import MenuAnswer, MenuRefused, ProviderCall
from providers.destinations import ensure_provider_destination
from providers.menu_document import menu_hash, menu_read
from providers.models import Branch, Location, MenuSync, MenuVersion
from webhooks.outbox import outbox_enqueue

State = MenuSync.State


class UnknownLocation(errors.NotFound):
    code = "LOCATION_NOT_FOUND"
    message = "No such location: register it with PUT /api/locations/<id> first."


@dataclass(frozen=True)
class Published:
    version: int
    changed: bool  # a new version, or a branch that lacked the latest: something was queued
    syncs: list[dict[str, Any]]  # [{"provider", "branch", "status"}]

# A branch has a version when a sync of it is live (or partly, or unchanged) or on its way (queued, or sent
# and awaiting the provider's result); failed or timed out, it does not.
HAS_IT = [State.QUEUED, State.SENT, State.LIVE, State.PARTIAL, State.UNCHANGED]


def menu_publish(*, location_id: str, payload: Any) -> Published:
    """Keep a changed menu as a new version and queue its syncs; MenuErrors (422) with every problem."""
    if not Location.objects.filter(id=location_id).exists():
        raise UnknownLocation()
    document = menu_read(payload)
    digest = menu_hash(document)
    with transaction.atomic():
        location = Location.objects.select_for_update().filter(id=location_id).first()
        if location is None:
            raise UnknownLocation()
        latest = location.menu_versions.order_by("-version").first()
        version = latest if latest is not None and latest.document_hash == digest else MenuVersion.objects.create(
            location=location, version=latest.version + 1 if latest else 1, document=document, document_hash=digest)
        queued = [_queue_if_lacking(branch, version)
                  for branch in location.branches.select_related("provider").order_by("provider__name")]
        return Published(version=version.version, changed=version is not latest or any(queued),
                         syncs=location_syncs(location))


def _queue_if_lacking(branch: Branch, version: MenuVersion) -> bool:
    """Queue the version for the branch unless the branch has it live or on its way; whether it was queued."""
    if branch.menu_syncs.filter(menu_version=version, state__in=HAS_IT).exists():
        return False
    return _queue(branch, version)


@transaction.atomic
def menu_branches_relinked(*, branch_ids: list[int]) -> None:
    """Branches linked to a site, moved to another, or unlinked: a queued sync of a site the branch is no
    longer on is dropped (never sent), and the branch's site's latest version is queued if it lacks it."""
    for branch in Branch.objects.select_related("provider").filter(id__in=branch_ids).order_by("id"):
        MenuSync.objects.filter(branch=branch, state=State.QUEUED).exclude(
            menu_version__location_id=branch.location_id).delete()
        latest = MenuVersion.objects.filter(location_id=branch.location_id).order_by("-version").first()
        if branch.location_id and latest is not None:
            _queue_if_lacking(branch, latest)


def _queue(branch: Branch, version: MenuVersion, *, forced: bool = False) -> bool:
    """Whether the branch's provider publishes menus (and so whether a sync is queued)."""
    adapter = ADAPTERS.get(branch.provider.name)
    if adapter is None or not adapter.publishes_menus():
        return False
    if MenuSync.objects.filter(branch=branch, state=State.QUEUED).update(menu_version=version):
        return True  # the queued sync sends this version instead
    sync = MenuSync.objects.create(branch=branch, menu_version=version, forced=forced)
    ensure_provider_destination(adapter)
    sync.outbox_event_id = outbox_enqueue(destination=adapter.name, event_type="menu.publish",
                                          ordering_key=f"menu:{branch.id}", data={"menuSync": sync.id}).event_id
    sync.save(update_fields=["outbox_event_id"])
    return True


@transaction.atomic
def menu_publish_again(*, branches: list[Branch]) -> int:
    """An operator's "publish again": each branch's location's latest version is queued anew and sent even if
    the provider has it (after a failure, a time-out, or a change made on the provider's side). How many."""
    queued = 0
    for branch in branches:
        latest = MenuVersion.objects.filter(location_id=branch.location_id).order_by("-version").first()
        if latest is not None:
            _queue(branch, latest, forced=True)
            queued += 1
    return queued


def location_syncs(location: Location) -> list[dict[str, Any]]:
    """Per branch of the location: the newest sync of this location's menu (what `GET /api/locations/<id>/sync`
    shows; a branch moved here from another site shows none of that site's)."""
    rows = []
    for branch in location.branches.select_related("provider").order_by("provider__name"):
        syncs = branch.menu_syncs.filter(menu_version__location=location)
        sync = syncs.select_related("menu_version").order_by("-created_at").first()
        adapter = ADAPTERS.get(branch.provider.name)
        live = syncs.filter(state__in=[State.LIVE, State.PARTIAL, State.UNCHANGED]).select_related(
            "menu_version").order_by("-finished_at").first()
        rows.append({
            "provider": branch.provider.name, "branch": branch.external_id,
            "status": sync.state if sync else ("not_supported" if not (adapter and adapter.publishes_menus())
                                               else "never_published"),
            "version": sync.menu_version.version if sync else None,
            "liveVersion": live.menu_version.version if live else None,
            "errors": sync.errors if sync else [],
            "nextAllowedAt": _iso(next_allowed_at(branch)),
        })
    return rows


def next_allowed_at(branch: Branch) -> datetime | None:
    """When the provider's rate limit lets the next menu go to this branch (None: now)."""
    adapter = ADAPTERS.get(branch.provider.name)
    last = branch.menu_syncs.filter(sent_at__isnull=False).order_by("-sent_at").values_list("sent_at", flat=True).first()
    if adapter is None or last is None or not adapter.menu_min_interval_seconds:
        return None
    allowed = last + timedelta(seconds=adapter.menu_min_interval_seconds)
    return allowed if allowed > timezone.now() else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def provider_menu(document: dict[str, Any], provider: str) -> dict[str, Any]:
    """The master menu with this provider's overrides applied: price, name, or the item hidden (taken out
    of its categories and groups)."""
    overrides = [o for o in document["overrides"] if o["provider"] == provider]
    if not overrides:
        return document
    items = {item["id"]: dict(item) for item in document["items"]}
    hidden = set()
    for override in overrides:
        item = items[override["itemId"]]
        if "price" in override:
            item["price"] = override["price"]
        if "name" in override:
            item["name"] = override["name"]
        if override.get("visible") is False:
            hidden.add(item["id"])
    return {
        **document,
        "items": [item for item_id, item in items.items() if item_id not in hidden],
        "categories": [{**c, "itemIds": [i for i in c["itemIds"] if i not in hidden]} for c in document["categories"]],
        "modifierGroups": [{**g, "options": [o for o in g["options"] if o["itemId"] not in hidden]}
                           for g in document["modifierGroups"]],
    }


@dataclass(frozen=True)
class SyncPlan:
    """What the sender does with a menu sync now: send `call`, wait `wait_seconds`, or nothing (`skip`)."""

    call: ProviderCall | None = None
    wait_seconds: float = 0.0
    waiting_for: str = ""  # what the wait is for
    skip: str = ""  # why nothing is sent


def menu_sync_call(sync_id: int) -> SyncPlan:
    """The call of a queued sync, rendered now from its (newest) version; or why not yet, or not at all."""
    sync = MenuSync.objects.select_related("branch__provider", "menu_version").filter(id=sync_id).first()
    if sync is None or sync.state != State.QUEUED:
        return SyncPlan(skip="already sent or gone")
    if sync.menu_version.location_id != sync.branch.location_id:
        MenuSync.objects.filter(id=sync.id, state=State.QUEUED).delete()
        return SyncPlan(skip="the branch is no longer on this menu's location")
    if (allowed := next_allowed_at(sync.branch)) is not None:
        return SyncPlan(wait_seconds=(allowed - timezone.now()).total_seconds(), waiting_for="the menu rate limit")
    if (awaited := _result_awaited_until(sync.branch)) is not None:
        return SyncPlan(wait_seconds=min((awaited - timezone.now()).total_seconds(), RESULT_POLL_SECONDS),
                        waiting_for="the previous upload's result")
    adapter = ADAPTERS[sync.branch.provider.name]
    try:
        call = adapter.menu_call(provider_menu(sync.menu_version.document, adapter.name), sync.branch.external_id,
                                 sync.branch.provider_ids or {})
    except MenuRefused as refused:
        _finish(sync.id, State.FAILED, errors=refused.errors)
        return SyncPlan(skip=f"refused by the hub: {adapter.name}'s rules cannot hold this menu")
    rendered = menu_hash({"method": call.method, "url": call.url, "body": call.body})
    last = sync.branch.menu_syncs.exclude(id=sync.id).filter(state__in=[State.LIVE, State.UNCHANGED]).order_by(
        "-finished_at").values_list("rendered_hash", flat=True).first()
    if last == rendered and not sync.forced:
        _finish(sync.id, State.UNCHANGED, rendered_hash=rendered)
        return SyncPlan(skip="the provider already has it")
    MenuSync.objects.filter(id=sync.id).update(rendered_hash=rendered)
    return SyncPlan(call=call)


RESULT_POLL_SECONDS = 30.0


def _result_awaited_until(branch: Branch) -> datetime | None:
    """Until when the branch's previous upload may still get its result (None: none is awaited). The next
    upload waits for it: one upload awaiting a result per branch is what lets a result that names only the
    menu (Deliveroo's) finish exactly the upload it answers, never a later one."""
    sent_at = branch.menu_syncs.filter(state=State.SENT).order_by("-sent_at").values_list("sent_at", flat=True).first()
    if sent_at is None:
        return None
    until = sent_at + timedelta(minutes=settings.MENU_RESULT_TIMEOUT_MINUTES)
    return until if until > timezone.now() else None


def menu_sync_answered(sync_id: int, answer: MenuAnswer) -> None:
    """The provider answered the upload: live, or taken and to be confirmed later, or refused."""
    sent = {"sent_at": timezone.now(), "provider_job_id": answer.job_id[:200]}
    if answer.state == State.SENT:
        MenuSync.objects.filter(id=sync_id, state=State.QUEUED).update(state=State.SENT, **sent)
    else:
        _finish(sync_id, answer.state, errors=answer.errors, **sent)


def menu_sync_result(*, provider: str, job_id: str, answer: MenuAnswer) -> bool:
    """The provider's later word on a sent sync (Deliveroo's `menu.upload_result`); whether one matched. The job
    id is what the upload's answer named (Talabat's import id, Careem's request id: one upload each;
    Deliveroo's brand and menu: its one upload awaiting a result, `_result_awaited_until`). A result for an
    upload that is finished already (a replay, a result after its time-out) matches nothing."""
    sync = MenuSync.objects.filter(branch__provider__name=provider, provider_job_id=job_id, state=State.SENT).order_by(
        "sent_at").first()
    if sync is None:
        return False
    _finish(sync.id, answer.state, errors=answer.errors)
    return True


def menu_sync_failed(sync_id: int, error: str) -> None:
    """The outbox gave up on a sync's call (a dead letter): failed, with the last error."""
    _finish(sync_id, State.FAILED, errors=[{"item": None, "message": error[:500]}])


def menu_syncs_time_out() -> int:
    """Sent syncs whose result has not come in MENU_RESULT_TIMEOUT_MINUTES: timed_out (publish again from the
    admin, or send the menu again). How many."""
    cutoff = timezone.now() - timedelta(minutes=settings.MENU_RESULT_TIMEOUT_MINUTES)
    return MenuSync.objects.filter(state=State.SENT, sent_at__lt=cutoff).update(
        state=State.TIMED_OUT, finished_at=timezone.now(), errors=[
            {"item": None, "message": f"no result from the provider in {settings.MENU_RESULT_TIMEOUT_MINUTES} minutes"}])


def _finish(sync_id: int, state: str, **fields: Any) -> None:
    MenuSync.objects.filter(id=sync_id, state__in=[State.QUEUED, State.SENT]).update(
        state=state, finished_at=timezone.now(), **fields)


def menu_syncs_needing_attention() -> dict[tuple[str, str], int]:
    """(provider, state) → how many branches' newest sync ended failed, partial or timed out."""
    newest = (MenuSync.objects.order_by("branch_id", "-created_at").distinct("branch_id")
              .values_list("branch__provider__name", "state"))
    counts: dict[tuple[str, str], int] = {}
    for provider, state in newest:
        if state in {State.FAILED, State.PARTIAL, State.TIMED_OUT}:
            counts[(provider, state)] = counts.get((provider, state), 0) + 1
    return counts
