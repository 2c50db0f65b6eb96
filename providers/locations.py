"""Locations: the restaurant backend's sites, each linked to at most one branch per provider (SPEC §7c).

The backend registers a site with `PUT /api/locations/<id>` `{"name", "branches": [{"provider",
"externalId"}]}`: the branches listed are the site's, those it no longer lists are unlinked, and a branch
linked to another site moves to this one (the backend knows its sites). Orders of a linked branch carry
the site's id as `locationId`.
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from hub import errors
from providers.adapters.base import as_text
from providers.menus import menu_branches_relinked
from providers.models import Branch, Location
from providers.request_body import json_object

MAX_ID_CHARS = 100
MAX_NAME_CHARS = 200
MAX_BRANCHES = 50


class InvalidLocation(errors.Unprocessable):
    code = "INVALID_LOCATION"
    message = "The location names branches the hub does not know, or a provider twice."


@dataclass(frozen=True)
class LocationCommand:
    name: str
    branches: list[tuple[str, str]]  # (provider, external id)


def location_command(body: bytes) -> LocationCommand:
    """The body of `PUT /api/locations/<id>`; 400 (malformed, wrong types) with every problem."""
    payload = json_object(body)
    problems: dict[str, list[str]] = {}
    name = payload.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
        problems["name"] = [f"must be text of at most {MAX_NAME_CHARS} characters"]
    raw = payload.get("branches", [])
    if not isinstance(raw, list) or len(raw) > MAX_BRANCHES:
        problems["branches"] = [f"must be a list of at most {MAX_BRANCHES} objects"]
        raw = []
    branches = []
    for n, entry in enumerate(raw):
        provider, external_id = _pair(entry)
        if not provider or not external_id or len(external_id) > MAX_ID_CHARS:
            problems[f"branches[{n}]"] = ["needs \"provider\" and \"externalId\" (text, at most 100 characters)"]
        branches.append((provider, external_id))
    if problems:
        raise errors.ValidationFailed(details=problems)
    return LocationCommand(name=name if isinstance(name, str) else "", branches=branches)


def _pair(entry: Any) -> tuple[str, str]:
    if not isinstance(entry, dict):
        return "", ""
    return as_text(entry.get("provider"))[:32], as_text(entry.get("externalId"))


@transaction.atomic
def location_register(*, location_id: str, command: LocationCommand) -> tuple[Location, bool]:
    """Create or update the site and link exactly the branches it lists; whether it was created."""
    problems: dict[str, list[str]] = {}
    found: list[Branch] = []
    providers = [provider for provider, _ in command.branches]
    for n, (provider, external_id) in enumerate(command.branches):
        if providers.count(provider) > 1:
            problems[f"branches[{n}]"] = [f"{provider} is named more than once (one branch per provider)"]
            continue
        branch = Branch.objects.filter(provider__name=provider, external_id=external_id).first()
        if branch is None:
            problems[f"branches[{n}]"] = [f"no {provider} branch {external_id!r}: add it under Providers → Branches"]
            continue
        found.append(branch)
    if problems:
        raise InvalidLocation(details=problems)
    location, created = Location.objects.update_or_create(id=location_id, defaults={"name": command.name})
    leaving = list(Branch.objects.filter(location=location).exclude(id__in=[b.id for b in found])
                   .values_list("id", flat=True))
    arriving = [b.id for b in found if b.location_id != location.id]
    Branch.objects.filter(id__in=leaving).update(location=None)
    Branch.objects.filter(id__in=arriving).update(location=location)
    menu_branches_relinked(branch_ids=leaving + arriving)
    return location, created
