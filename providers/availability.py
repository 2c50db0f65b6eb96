"""Item availability and store status of a location, told to each of its providers (SPEC §7c).

`availability_set` records the restaurant's changes and queues one outbox message per provider branch
(ordering key `menu:<branch id>`, after the menu it belongs to): small deltas, never a replace-all. An item
unavailable until a time comes back by itself: beat's `availability_restore` makes it available then and
tells the providers. `store_status_set` does the same for the store; where a provider has no timer the
hub's `store_status_reopen` reopens it at `until`. `providers.calls` sends the calls the adapter renders.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from hub import errors
from providers.adapters import ADAPTERS
from providers.adapters.base import ItemChange, ProviderAdapter, parse_time
from providers.destinations import ensure_provider_destination
from providers.menus import UnknownLocation, provider_menu
from providers.models import Branch, ItemAvailability, Location, MenuSync, MenuVersion, StoreStatus
from webhooks.outbox import outbox_enqueue

MAX_ITEMS = 500


class InvalidAvailability(errors.Unprocessable):
    code = "INVALID_AVAILABILITY"
    message = "Some items are not on the location's menu; details lists them."


@dataclass(frozen=True)
class StatusCommand:
    status: str
    until: datetime | None


def availability_command(payload: dict[str, Any]) -> list[ItemChange]:
    """`{"items": [{"id", "available", "until"}]}`; 400 with every problem."""
    raw = payload.get("items")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ITEMS:
        raise errors.ValidationFailed(details={"items": [f"must be a list of 1 to {MAX_ITEMS} objects"]})
    problems: dict[str, list[str]] = {}
    changes = []
    for n, entry in enumerate(raw):
        where = f"items[{n}]"
        if not isinstance(entry, dict):
            problems[where] = ["must be an object {\"id\", \"available\", \"until\"}"]
            continue
        item_id, available, until = entry.get("id"), entry.get("available"), entry.get("until")
        found = []
        if not isinstance(item_id, str) or not 0 < len(item_id) <= 100:
            found.append("id must be an item id")
        if not isinstance(available, bool):
            found.append("available must be true or false")
        moment = parse_time(until) if until is not None else None
        if until is not None and (available is not False or moment is None or moment <= timezone.now()):
            found.append("until must be an RFC 3339 time in the future, and only when available is false")
        if found:
            problems[where] = found
        else:
            changes.append(ItemChange(item_id=str(item_id), available=bool(available), until=moment))
    if problems:
        raise errors.ValidationFailed(details=problems)
    return changes


def status_command(payload: dict[str, Any]) -> StatusCommand:
    """`{"status": "open" | "closed" | "paused", "until"}`; 400 with every problem."""
    status, until = payload.get("status"), payload.get("until")
    problems: dict[str, list[str]] = {}
    if status not in StoreStatus.Status.values:
        problems["status"] = [f"must be one of {', '.join(StoreStatus.Status.values)}"]
    moment = parse_time(until) if until is not None else None
    if until is not None and (status == "open" or moment is None or moment <= timezone.now()):
        problems["until"] = ["must be an RFC 3339 time in the future, for closed or paused"]
    if status == "paused" and until is None:
        problems["until"] = ["a pause needs its end"]
    if problems:
        raise errors.ValidationFailed(details=problems)
    return StatusCommand(status=str(status), until=moment)


def _location(location_id: str) -> Location:
    location = Location.objects.select_for_update().filter(id=location_id).first()
    if location is None:
        raise UnknownLocation()
    return location


def _options(location: Location) -> tuple[set[str], set[str]]:
    """The latest menu's item ids, and those offered only inside groups (options)."""
    latest = MenuVersion.objects.filter(location=location).order_by("-version").first()
    if latest is None:
        return set(), set()
    document = latest.document
    sold = {item_id for category in document["categories"] for item_id in category["itemIds"]}
    in_groups = {o["itemId"] for group in document["modifierGroups"] for o in group["options"]}
    return {item["id"] for item in document["items"]}, in_groups - sold


@transaction.atomic
def availability_set(*, location_id: str, changes: list[ItemChange]) -> int:
    """Record the changes and queue them to every provider branch of the location; how many branches."""
    location = _location(location_id)
    known, options = _options(location)
    unknown = sorted({change.item_id for change in changes} - known)
    if unknown:
        raise InvalidAvailability(details={"unknownItems": unknown[:100],
                                           "menu": "publish the menu first" if not known else "the latest version"})
    now = timezone.now()
    latest = {change.item_id: change for change in changes}  # an item named twice: the last word, as sent
    ItemAvailability.objects.bulk_create(
        [ItemAvailability(location=location, item_id=item_id, available=change.available, until=change.until,
                          updated_at=now) for item_id, change in latest.items()],
        update_conflicts=True, unique_fields=["location", "item_id"], update_fields=["available", "until", "updated_at"])
    changes = [ItemChange(c.item_id, c.available, c.until, option=c.item_id in options) for c in changes]
    return _queue(location, "menu.availability", lambda branch: {"availability": {
        "branchId": branch.id, "items": [{"id": c.item_id, "available": c.available,
                                          "until": c.until.isoformat() if c.until else None, "option": c.option}
                                         for c in changes]}}, lambda adapter: adapter.tells_availability())


@transaction.atomic
def store_status_set(*, location_id: str, command: StatusCommand) -> int:
    location = _location(location_id)
    StoreStatus.objects.update_or_create(location=location, defaults={
        "status": command.status, "until": command.until, "updated_at": timezone.now()})
    return _queue(location, "store.status", lambda branch: {"storeStatus": {
        "branchId": branch.id, "status": command.status,
        "until": command.until.isoformat() if command.until else None}}, lambda adapter: adapter.tells_store_status())


def _queue(location: Location, event_type: str, data: Callable[[Branch], dict[str, Any]],
           supported: Callable[[ProviderAdapter], bool]) -> int:
    queued = 0
    for branch in location.branches.select_related("provider"):
        adapter = ADAPTERS.get(branch.provider.name)
        if adapter is None or not supported(adapter):
            continue
        ensure_provider_destination(adapter)
        outbox_enqueue(destination=adapter.name, event_type=event_type, data=data(branch),
                       ordering_key=f"menu:{branch.id}")
        queued += 1
    return queued


def availability_restore() -> int:
    """Items whose `until` passed: available again, and the providers told. How many items."""
    restored = 0
    due = (ItemAvailability.objects.filter(available=False, until__lte=timezone.now())
           .values_list("location_id", "item_id"))
    by_location: dict[str, list[str]] = {}
    for location_id, item_id in due:
        by_location.setdefault(location_id, []).append(item_id)
    for location_id, items in by_location.items():
        availability_set(location_id=location_id, changes=[ItemChange(item_id, True) for item_id in items])
        restored += len(items)
    return restored


def store_status_reopen() -> int:
    """Stores closed or paused until a time that passed: open again, every provider told. How many."""
    due = list(StoreStatus.objects.filter(until__lte=timezone.now()).exclude(status=StoreStatus.Status.OPEN)
               .values_list("location_id", flat=True))
    for location_id in due:
        store_status_set(location_id=location_id, command=StatusCommand(status="open", until=None))
    return len(due)


def branch_menu_pending(branch_id: int) -> bool:
    """Whether the branch's newest menu is not confirmed yet (queued or sent without its result)."""
    newest = MenuSync.objects.filter(branch_id=branch_id).order_by("-created_at").values_list("state", flat=True).first()
    return newest in {MenuSync.State.QUEUED, MenuSync.State.SENT}


def provider_item_ids(branch: Branch, provider: str) -> set[str]:
    """The items of the location's latest menu as this provider has it (its overrides may hide some)."""
    latest = MenuVersion.objects.filter(location_id=branch.location_id).order_by("-version").first()
    return {item["id"] for item in provider_menu(latest.document, provider)["items"]} if latest else set()


def branch_of(branch_id: int) -> Branch | None:
    return Branch.objects.select_related("provider").filter(id=branch_id).first()
