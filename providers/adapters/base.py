"""What every provider adapter shares: the parsed event, error accumulation, money by exponent.

Adapters are pure: payload in (parsed with `Decimal` for every JSON number), `ProviderEvent` out, or
`AdapterErrors` with every problem found. They ignore fields they do not know.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, NoReturn
from urllib.parse import urlencode

import requests
from django.conf import settings

from hub import http
from hub.json_input import NotJson, TooDeep, id_problem, load_json
from hub.money import EXPONENTS, MAX_MINOR, MoneyError, exponent, to_minor

MAX_QUANTITY = 10_000


class AdapterErrors(Exception):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass
class ProviderEvent:
    # "order_created"; "status_update" (with `order`, the provider's full copy, an unknown order is
    # created from it first: Deliveroo, Uber Eats); "fetch" (a thin event: the worker fetches the order,
    # `external_order_id`, and reads it with the adapter's `fetched_route`); "menu_result" (the provider's
    # later word on a menu upload: `provider_refs` {"jobId", "state", "errors"}); or "ignored"
    kind: str
    event_type: str
    dedupe_key: str
    external_order_id: str = ""
    hub_order_id: str = ""  # when the provider addresses our order id (Talabat remoteOrderId)
    branch_id: str = ""
    order: dict | None = None  # the internal order without "id"/"status", for order_created
    provider_status: str = ""
    status: str = ""  # lifecycle status it maps to; "" = informational
    occurred_at: datetime | None = None
    deadline_at: datetime | None = None  # when the provider cancels an undecided order
    provider_refs: dict[str, Any] = field(default_factory=dict)  # what decisions need (brand id, callback URLs)


@dataclass
class Context:
    """What an adapter needs besides the payload."""

    branch_id: str = ""  # from the URL (Talabat remoteId), when the route carries it
    branch_currency: str = ""
    default_currency: str = "USD"
    remote_order_id: str = ""
    notified_at: str = ""  # ISO time the provider announced a fetched order (its deadline may count from it)
    acting_branch: str = ""  # the branch whose own secret authenticated the request: it acts on its orders only
    auto_accept: bool = False  # the branch accepts its new orders itself (the hub accepts at the provider)
    location_id: str = ""  # the restaurant site the branch is linked to (SPEC §7c); orders carry it
    delivery_id: str = ""  # the provider's id of this delivery, the same on its retries (`delivery_id_header`)


@dataclass(frozen=True)
class Route:
    """How one of a provider's URLs reads its payload."""

    parse: Callable[[Any, Context], ProviderEvent]
    plugin_dispatch: bool = False  # Talabat's plugin answers 202 {"remoteOrderId"}
    empty_answer: bool = False  # Uber Eats: 200 with an empty body for an accepted or duplicate event


@dataclass(frozen=True)
class Decision:
    """The restaurant's decision, as an adapter needs it to build its call to the provider."""

    action: str  # accept | reject | ready | picked-up
    hub_order_id: str
    external_order_id: str
    branch_id: str
    provider_refs: dict[str, Any]
    reason: str = ""  # the hub's vocabulary: Delivery Hero's codes
    message: str = ""
    preparation_minutes: int = 20
    order_status: str = ""  # the order's lifecycle status when decided (Uber Eats: deny before, cancel after accepting)
    decided_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # When the call is sent: what a call promises relative to now (Talabat's acceptanceTime) is computed
    # from it. The outbox keeps the decision, and `providers.calls` renders the call at each send.
    sent_at: datetime | None = None

    @property
    def call_time(self) -> datetime:
        return self.sent_at or self.decided_at

    def as_data(self) -> dict[str, Any]:
        """The decision as an outbox message keeps it (JSON): its fields, without the send time."""
        data = asdict(self)
        del data["sent_at"]
        return {**data, "decided_at": self.decided_at.isoformat()}

    @classmethod
    def from_data(cls, data: dict[str, Any], *, sent_at: datetime) -> "Decision":
        return cls(**{**data, "decided_at": datetime.fromisoformat(data["decided_at"]), "sent_at": sent_at})


@dataclass(frozen=True)
class ProviderCall:
    """One HTTP call to a provider, stored as an outbox message's data and sent by `providers.calls`."""

    method: str
    url: str  # absolute
    body: dict[str, Any] | None = None  # None: an empty body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NoCall:
    """The provider has no call for this decision (no callback URL), or the hub refuses to make it."""

    call: str  # OrderDecision.Call: "not_applicable" or "refused"
    explanation: str


class MenuRefused(Exception):
    """The menu cannot be rendered in the provider's shape (a group its rules forbid): the sync fails with
    these errors and nothing is sent."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} problems")
        self.errors = errors


@dataclass(frozen=True)
class MenuAnswer:
    """What a provider said to a menu upload: `live`, `sent` (its result comes later, under `job_id`),
    `partial` or `failed`, with its errors per item where it names them: [{"item", "message"}]."""

    state: str
    job_id: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ItemChange:
    """An item of a menu made available or unavailable (`until`: when it comes back; None: until told)."""

    item_id: str
    available: bool
    until: datetime | None = None
    option: bool = False  # offered only inside modifier groups (Delivery Hero's TOPPING)


@dataclass(frozen=True)
class Token:
    value: str
    expires_in: float  # seconds, as the provider said


class ProviderAdapter:
    """One delivery provider, defined in one module (docs/ADDING_A_PROVIDER.md): its routes (how each
    URL's payload becomes a `ProviderEvent`), where a payload names its branch, and how its statuses
    map to the hub's lifecycle. Its settings (`providers.config`) are read from `<NAME>_AUTH_MODE`,
    `<NAME>_WEBHOOK_SECRET`, `<NAME>_DEFAULT_CURRENCY` and `<NAME>_IP_ALLOWLIST`, defaulting to the
    class attributes below."""

    name: ClassVar[str]
    auth_mode: ClassVar[str] = "hmac"  # hmac | api_key | jwt
    default_currency: ClassVar[str]  # when neither payload nor branch names one
    dev_secret: ClassVar[str]  # the development default: obviously fake, refused in production
    # The Django setting that holds the webhook secret, when the provider signs with a credential the
    # hub also uses elsewhere (Uber Eats: its client secret); "" = `<NAME>_WEBHOOK_SECRET`.
    secret_setting: ClassVar[str] = ""
    signature_header: ClassVar[str] = ""  # hmac mode: "" = x-<name>-signature (lowercase hex)
    statuses: ClassVar[dict[str, str]]  # provider status → lifecycle status; others are kept as events only
    routes: ClassVar[dict[str, Route]]  # "generic" serves POST /api/webhooks/<name>
    # The header naming a delivery, kept by the provider's retries of it (Deliveroo: its sequence GUID): what
    # tells a retried result from a new one whose body is the same; "" = the provider sends none.
    delivery_id_header: ClassVar[str] = ""
    # `setup_providers --demo`: (external id, name, currency) of the branch the README's examples use
    demo_branch: ClassVar[tuple[str, str, str] | None] = None

    def branch_id_of(self, payload: Any, context: Context) -> str:
        """The branch a payload (or its URL) names, read before authentication: "" when none."""
        raise NotImplementedError

    # --- hmac mode: what is signed, and how a sender signs it (send_provider_webhook, tests) ---
    def signature_header_name(self) -> str:
        return self.signature_header or f"x-{self.name}-signature"

    def signed_message(self, headers: Any, body: bytes) -> bytes:
        """The bytes the signature covers: the raw body (Deliveroo: its sequence GUID, a space, the body)."""
        return body

    def signing_headers(self) -> dict[str, str]:
        """Headers a sender adds before it signs (Deliveroo: a new sequence GUID)."""
        return {}

    def deadline_of(self, event: ProviderEvent, received_at: datetime) -> datetime | None:
        """When the provider cancels the new order if it is still undecided."""
        return event.deadline_at

    # --- decisions back to the provider (SPEC §7b); a provider without them keeps these defaults ---
    def decision_call(self, decision: Decision) -> ProviderCall | tuple[ProviderCall, ...] | NoCall:
        """The call that tells the provider (several: sent in order, one outbox message each); pure (no I/O)."""
        return NoCall("not_applicable", f"{self.name} takes no decisions")

    # --- thin events (SPEC §7, Uber Eats): the order is fetched by the worker ---
    fetched_route: ClassVar[str] = ""  # the route (in `routes`, served by no URL) that reads a fetched order

    def fetch_call(self, external_order_id: str) -> ProviderCall:
        """The GET of an order a "fetch" event announced, on the provider's configured API URL; pure."""
        raise NotImplementedError

    # --- menus (SPEC §7c); a provider without them keeps these defaults and is not published to ---
    menu_min_interval_seconds: ClassVar[float] = 0  # the provider's rate limit on menu uploads per branch

    def publishes_menus(self) -> bool:
        return type(self).menu_call is not ProviderAdapter.menu_call

    def tells_availability(self) -> bool:
        return type(self).availability_calls is not ProviderAdapter.availability_calls

    def tells_store_status(self) -> bool:
        return type(self).status_call is not ProviderAdapter.status_call

    def menu_call(self, menu: dict[str, Any], branch_id: str, provider_ids: dict[str, Any]) -> ProviderCall:
        """The upload of a whole menu (`providers.menu_document`, this provider's overrides applied) to one
        branch (its external id and the provider's other ids for it); pure. MenuRefused when the provider's
        rules cannot hold it."""
        raise NotImplementedError

    def menu_answer(self, call: ProviderCall, status_code: int, body: bytes) -> MenuAnswer:
        """The provider's answer to `menu_call`: by default a 2xx is live, anything else failed."""
        if 200 <= status_code < 300:
            return MenuAnswer("live")
        text = body[:500].decode("utf-8", errors="replace")
        return MenuAnswer("failed", errors=[{"item": None, "message": f"HTTP {status_code}: {text}"}])

    # --- availability and store status (SPEC §7c) ---
    availability_needs_live_menu: ClassVar[bool] = False  # Deliveroo loses changes sent before its upload result

    def availability_calls(self, changes: list[ItemChange], branch_id: str,
                           provider_ids: dict[str, Any]) -> tuple[ProviderCall, ...]:
        """The calls that tell the provider of these changes, within its limits (items per call); pure.
        Never a replace-all: that would wipe what staff set on the provider's tablet."""
        raise NotImplementedError

    def availability_partial(self, status_code: int, body: bytes) -> str:
        """Why a 2xx answer to an availability call did not apply every item ("" when it did): retried."""
        return ""

    def status_call(self, status: str, until: datetime | None, branch_id: str,
                    provider_ids: dict[str, Any]) -> ProviderCall:
        """The store's status call: open, closed, or paused until a time (the hub reopens it then where the
        provider has no timer); pure."""
        raise NotImplementedError

    def api_origin(self) -> str:
        """The provider's configured API URL: its scheme, host and port are the only ones the bearer
        token is ever sent to (`hub.http.checked_url`)."""
        return ""

    def login(self) -> Token:
        """Fetch a new bearer token from the provider (HTTP); `providers.tokens` caches it."""
        raise NotImplementedError


MAX_TOKEN_SECONDS = 24 * 3600  # no provider documents a longer token; a cache may refuse far expiries


class LoginFailed(Exception):
    """The provider refused or garbled a token request; the message says which, never the secret."""


def login_with(url: str, form: dict[str, str]) -> Token:
    """POST an OAuth2 token request (a form) to `url` and read the answer, capped like every provider call."""
    request = http.prepare("POST", url, body=urlencode(form).encode(), origin=url,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    return token_from(http.send(request, timeout=settings.PROVIDER_CALL_TIMEOUT_SECONDS))


def token_from(answer: requests.Response) -> Token:
    """A login answer `{"access_token", "expires_in"}` as a Token, its lifetime clamped to
    MAX_TOKEN_SECONDS: an `expires_in` of 1e12 or Infinity is a long-lived token, not an error."""
    if answer.status_code != 200:
        raise LoginFailed(f"token request answered HTTP {answer.status_code}")
    if http.truncated(answer):
        raise LoginFailed("token answer too large")
    try:
        data = load_json(answer.content, constants_as_text=True)
        value, expires_in = data["access_token"], _lifetime(data.get("expires_in"))
    except (NotJson, TooDeep, KeyError, TypeError) as exc:
        raise LoginFailed(f"token answer unreadable: {type(exc).__name__}") from exc
    if not isinstance(value, str) or not value or expires_in is None:
        raise LoginFailed("token answer without access_token or a positive expires_in")
    return Token(value=value, expires_in=expires_in)


def _lifetime(value: Any) -> float | None:
    """Seconds, at most MAX_TOKEN_SECONDS; None unless `value` is a number (or its text) of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)  # "Infinity", "1e1000000": no cost
    except ArithmeticError:
        return None
    if number.is_nan() or not number >= 1:
        return None
    return float(min(number, Decimal(MAX_TOKEN_SECONDS)))


# The hub's reject reasons: Delivery Hero's 24 codes (providers-formats.md).
REJECT_REASONS = frozenset({
    "ADDRESS_INCOMPLETE_MISSTATED", "BAD_WEATHER", "BLACKLISTED", "CARD_READER_NOT_AVAILABLE", "CLOSED",
    "CONTENT_WRONG_MISLEADING", "FOOD_QUALITY_SPILLAGE", "FRAUD_PRANK", "ITEM_UNAVAILABLE", "LATE_DELIVERY",
    "MENU_ACCOUNT_SETTINGS", "MOV_NOT_REACHED", "NO_COURIER", "NO_PICKER", "NO_RESPONSE", "OUTSIDE_DELIVERY_AREA",
    "TECHNICAL_PROBLEM", "TEST_ORDER", "TOO_BUSY", "UNABLE_TO_FIND", "UNABLE_TO_PAY", "UNPROFESSIONAL_BEHAVIOUR",
    "WILL_NOT_WORK_WITH_PLATFORM", "WRONG_ORDER_ITEMS_DELIVERED",
})


@dataclass
class Reader:
    """Collects every validation problem instead of stopping at the first."""

    errors: list[dict[str, str]] = field(default_factory=list)
    currency: str = "USD"

    def error(self, where: str, message: str) -> None:
        self.errors.append({"field": where, "message": message})

    def money(self, value: Any, where: str, *, required: bool = False) -> int:
        if value is None or value == "":
            if required:
                self.error(where, "is required")
            return 0
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            self.error(where, "must be a decimal amount")
            return 0
        try:
            return to_minor(value, self.currency)
        except MoneyError as exc:
            self.error(where, str(exc))
            return 0

    def quantity(self, value: Any, where: str) -> int:
        """A count of items: a JSON number or a string holding one (Talabat sends "2")."""
        number = Decimal("NaN")
        if isinstance(value, int | Decimal | str) and not isinstance(value, bool):
            try:
                number = Decimal(value.strip() if isinstance(value, str) else value)
            except ArithmeticError:  # "abc"
                pass
        # compared before int(): converting a hostile "1e10000000" would take minutes
        if not number.is_finite() or not 0 < number <= MAX_QUANTITY or number != number.to_integral_value():
            self.error(where, f"must be a whole number from 1 to {MAX_QUANTITY}")
            return 0
        return int(number)

    def require_object(self, payload: Any) -> dict[str, Any]:
        """The body must be a JSON object; anything else stops here with that one error."""
        if not isinstance(payload, dict):
            self.fail("body", "must be a JSON object")
        return payload

    def text(self, value: Any) -> str:
        return as_text(value)

    def identifier(self, value: Any, where: str, *, required: bool = False, max_length: int = 100) -> str:
        """An id the hub stores in a column of `max_length` characters."""
        text = self.text(value)
        if required and not text:
            self.error(where, "is required")
        elif problem := id_problem(text):
            self.error(where, problem)
        elif len(text) > max_length:
            self.error(where, f"must be at most {max_length} characters")
            return text[:max_length]
        return text

    def check(self) -> None:
        if self.errors:
            raise AdapterErrors(self.errors)

    def fail(self, where: str, message: str) -> NoReturn:
        """Stop here with this error and every one collected before it."""
        self.error(where, message)
        raise AdapterErrors(self.errors)


def answer_field(body: bytes, key: str) -> str:
    """A text field of a provider's JSON answer (a job id), "" when the answer is not an object holding it."""
    try:
        answer = load_json(body)
    except (NotJson, TooDeep):
        return ""
    return as_text(answer.get(key)) if isinstance(answer, dict) else ""


def as_text(value: Any) -> str:
    """Free text as sent: numbers become their digits; objects, lists, booleans and null ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return ""


def object_at(mapping: dict, key: str) -> dict:
    """An optional section: `mapping[key]` when it is an object, else an empty one."""
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def list_at(mapping: dict, key: str) -> list:
    """An optional list: `mapping[key]` when it is a list, else an empty one."""
    value = mapping.get(key)
    return value if isinstance(value, list) else []


def minor_units(reader: "Reader", value: Any, where: str, *, scale: int = 0, required: bool = False) -> int:
    """An amount the provider sends as an integer of minor units (Deliveroo `fractional`, Uber Eats
    `amount`), or of minor units × 10^`scale` (Uber's `amount_e5`: scale = 5 − the currency's exponent).
    A JSON number or its text; a fraction left after scaling is an error, never a rounding."""
    if value is None or value == "":
        if required:
            reader.error(where, "is required")
        return 0
    number = Decimal("NaN")
    if isinstance(value, int | Decimal | str) and not isinstance(value, bool):
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except ArithmeticError:
            pass
    # the exponent before any arithmetic: abs() or scaleb() of "1e1000000" overflows the decimal context
    if not number.is_finite() or number.adjusted() > len(str(MAX_MINOR)) + scale or abs(number) > MAX_MINOR * 10**scale:
        reader.error(where, "must be a whole number of minor units")
        return 0
    scaled = number.scaleb(-scale)
    if scaled != scaled.to_integral_value():
        reader.error(where, f"{value} is not a whole number of minor units")
        return 0
    return int(scaled)


def invalid_item() -> dict:
    """Stands in for an item that is not an object (its error is recorded), so parsing goes on."""
    return {"externalId": "", "name": "", "quantity": 0, "unitPriceMinor": 0, "totalMinor": 0, "modifiers": []}


def choose_currency(reader: Reader, *candidates: str) -> str:
    """The first candidate that is an ISO 4217 code the hub knows."""
    for candidate in candidates:
        if candidate and candidate.upper() in EXPONENTS:
            return candidate.upper()
    reader.error("currency", f"none of {[c for c in candidates if c]} is a known ISO 4217 currency")
    return "USD"


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as UTC; unreadable ones, and those at the calendar's edge that no database
    can hold in UTC (0001-01-01T00:00:00+14:00), are None. A time without offset is taken as UTC."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def internal_order(*, provider: str, external_order_id: str, branch_id: str, placed_at: datetime | None, currency: str,
                   customer: dict, items: list[dict], totals: dict, payment: dict, notes: str,
                   warnings: list[str], tax_inclusive: bool = False) -> dict:
    """SPEC §7's internal order, minus the hub's id and status (set when it is stored).
    With `tax_inclusive` prices already contain the tax, which is then reported, not added."""
    added_tax = 0 if tax_inclusive else totals["taxMinor"]
    computed = totals["subtotalMinor"] + added_tax + totals["deliveryFeeMinor"] + totals[
        "serviceFeeMinor"] - totals["discountMinor"]
    if computed != totals["totalMinor"]:
        warnings.append(
            f"totals do not add up: subtotal{'' if tax_inclusive else ' + tax'} + delivery + service - discount = {computed}, "
            f"total sent = {totals['totalMinor']} (minor units); the sent total is kept"
        )
    return {
        "provider": provider, "externalOrderId": external_order_id, "branchId": branch_id,
        "placedAt": placed_at.isoformat() if placed_at else None, "currency": currency,
        "currencyExponent": exponent(currency), "customer": customer, "items": items, "totals": totals,
        "payment": payment, "notes": notes, "warnings": warnings,
    }
