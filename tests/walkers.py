"""What the hostile walkers (tests/test_hostile_numbers.py, tests/test_hostile_strings.py) share: the routes of
the URL configuration, and every place in a body where a hostile value can stand."""

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


def route_names(keep: Callable[[Any], bool] = lambda view: True) -> Iterator[str]:
    """The name of every route outside the admin whose view `keep` keeps (the view class, None for a function)."""
    def walk(patterns: list) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if not str(pattern.pattern).startswith("admin"):
                    yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
                if keep(view):
                    yield pattern.name or str(pattern.pattern)

    return walk(get_resolver().url_patterns)


def places(value: Any, *, leaf: Callable[[Any], bool], unknown: str, here: tuple = ()) -> Iterator[tuple]:
    """Every leaf `leaf` keeps, and a new unknown field named `unknown` in each object."""
    if isinstance(value, dict):
        yield (*here, unknown)
        for key, item in value.items():
            yield from places(item, leaf=leaf, unknown=unknown, here=(*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from places(item, leaf=leaf, unknown=unknown, here=(*here, index))
    elif leaf(value):
        yield here


def with_value(body: Any, place: tuple, value: Any) -> Any:
    """A copy of `body` with `value` at `place`."""
    copy = json.loads(json.dumps(body))
    holder = copy
    for step in place[:-1]:
        holder = holder[step]
    holder[place[-1]] = value
    return copy
