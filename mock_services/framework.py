"""The small framework every fake shares: routing, recording, scripted faults, control API.

A fake subclasses `MockService`, lists its `routes()` (recorded, scriptable) and optional
`control_routes()` (extra `/__control/...` endpoints), and keeps its state behind
`self.lock`. Control API (SPEC §5):

* `POST /__control/script` `{"route", "responses": [...]}` replaces the route's script;
  each entry is `{"status", "headers"?, "body"?, "delayMs"?}` or `{"pass": true, "delayMs"?}`.
* `GET /__control/requests[?route=NAME]` lists what was received, oldest first.
* `POST /__control/reset` forgets scripts, requests and the fake's own state.
"""

import json
import threading
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

Handler = Callable[..., Response]
MAX_DELAY_MS = 60_000


@dataclass(frozen=True)
class MockRoute:
    name: str
    rule: str
    methods: tuple[str, ...]
    handler: Handler


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers, mimetype="application/json")


def read_json(request: Request) -> Any:
    """The body as JSON, or raise ValueError (also for bodies that are not UTF-8)."""
    return json.loads(request.get_data().decode("utf-8"))


def _script_errors(entry: Any, index: int) -> list[str]:
    where = f"responses[{index}]"
    if not isinstance(entry, dict):
        return [f"{where} must be an object"]
    errors = []
    delay = entry.get("delayMs", 0)
    if type(delay) is not int or not 0 <= delay <= MAX_DELAY_MS:
        errors.append(f"{where}.delayMs must be an integer from 0 to {MAX_DELAY_MS}")
    if entry.get("pass") is True:
        return errors
    status = entry.get("status")
    if type(status) is not int or not 100 <= status <= 599:
        errors.append(f"{where} needs \"pass\": true or an integer status from 100 to 599")
    headers = entry.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        errors.append(f"{where}.headers must be an object of strings")
    return errors


def record_limit() -> int:
    """How many requests, and data items of each kind, a fake keeps (MOCK_RECORD_LIMIT): the oldest go
    first, so a long demo or benchmark leaves a fake's memory flat (SPEC §5)."""
    from django.conf import settings

    return settings.MOCK_RECORD_LIMIT


class Bounded(OrderedDict):
    """A dict that keeps the last `record_limit()` keys written: the oldest is forgotten first."""

    def __init__(self) -> None:
        super().__init__()
        self.limit = record_limit()

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        while len(self) > self.limit:
            self.popitem(last=False)


class MockService:
    name = ""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._scripts: dict[str, deque[dict]] = defaultdict(deque)
        self._requests: deque[dict] = deque(maxlen=record_limit())
        self._routes = {route.name: route for route in self.routes()}
        control = [
            MockRoute("__script", "/__control/script", ("POST",), self._control_script),
            MockRoute("__requests", "/__control/requests", ("GET",), self._control_requests),
            MockRoute("__reset", "/__control/reset", ("POST",), self._control_reset),
            *self.control_routes(),
        ]
        self._control = {route.name: route for route in control}
        rules = [Rule(r.rule, endpoint=r.name, methods=r.methods) for r in [*self._routes.values(), *control]]
        self._url_map = Map(rules, strict_slashes=False)

    # --- what a fake provides -----------------------------------------------------
    def routes(self) -> list[MockRoute]:
        return []

    def control_routes(self) -> list[MockRoute]:
        return []

    def reset_state(self) -> None:
        """Forget the fake's own state (called by `/__control/reset`, under the lock)."""

    # --- WSGI ---------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        try:
            endpoint, values = self._url_map.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return json_response({"error": exc.name.lower().replace(" ", "_")}, status=exc.code or 500)
        if endpoint in self._control:
            return self._control[endpoint].handler(request, **values)
        return self._serve(self._routes[endpoint], request, values)

    def _serve(self, route: MockRoute, request: Request, values: Mapping[str, Any]) -> Response:
        record = self._record(route.name, request)
        with self.lock:
            scripted = self._scripts[route.name].popleft() if self._scripts[route.name] else None
        if scripted and scripted.get("delayMs"):
            time.sleep(scripted["delayMs"] / 1000)
        if scripted and not scripted.get("pass"):
            response = self._scripted_response(scripted)
        else:
            response = route.handler(request, **values)
        record["status"] = response.status_code
        return response

    @staticmethod
    def _scripted_response(entry: dict) -> Response:
        body = entry.get("body", {"error": "scripted", "status": entry["status"]})
        if isinstance(body, str):
            return Response(body, status=entry["status"], headers=entry.get("headers"))
        return json_response(body, status=entry["status"], headers=entry.get("headers"))

    def _record(self, route_name: str, request: Request) -> dict:
        record = {
            "route": route_name,
            "method": request.method,
            "path": request.path,
            "query": request.query_string.decode("latin-1"),
            "headers": dict(request.headers.items()),
            "body": request.get_data().decode("utf-8", errors="replace"),
            "time": datetime.now(UTC).isoformat(),
            "status": None,
        }
        with self.lock:
            self._requests.append(record)
        return record

    # --- control API --------------------------------------------------------------
    def _control_script(self, request: Request) -> Response:
        try:
            payload = read_json(request)
        except ValueError:
            return json_response({"error": "malformed_json"}, status=400)
        if not isinstance(payload, dict):
            return json_response({"error": "invalid_script", "details": ["body must be an object"]}, 400)
        route, responses = payload.get("route"), payload.get("responses")
        errors = [] if isinstance(route, str) and route in self._routes else [f"route must be one of {sorted(self._routes)}"]
        if not isinstance(responses, list):
            errors.append("responses must be a list")
        else:
            errors += [error for i, entry in enumerate(responses) for error in _script_errors(entry, i)]
        if errors or not isinstance(route, str) or not isinstance(responses, list):
            return json_response({"error": "invalid_script", "details": errors}, status=400)
        with self.lock:
            self._scripts[route] = deque(responses)
        return json_response({"route": route, "scripted": len(responses)})

    def _control_requests(self, request: Request) -> Response:
        route = request.args.get("route")
        if route is not None and route not in self._routes:
            return json_response({"error": "unknown_route", "details": [f"route must be one of {sorted(self._routes)}"]}, 400)
        with self.lock:
            selected = [dict(r) for r in self._requests if route is None or r["route"] == route]
        return json_response({"route": route, "count": len(selected), "requests": selected})

    def _control_reset(self, request: Request) -> Response:
        with self.lock:
            self._scripts.clear()
            self._requests.clear()
            self.reset_state()
        return json_response({"reset": True})
