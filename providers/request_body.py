"""The restaurant backend's request bodies (decisions, locations): one JSON object, read leniently."""

from typing import Any

from hub import errors
from hub.json_input import NotJson, TooDeep, load_json


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object (an empty body: {}); 400 MALFORMED_JSON or VALIDATION_ERROR otherwise."""
    if not body.strip():
        return {}
    try:
        payload = load_json(body)
    except NotJson as exc:
        raise errors.MalformedJson() from exc
    except TooDeep as exc:
        raise errors.ValidationFailed(details={"body": [str(exc)]}) from exc
    if not isinstance(payload, dict):
        raise errors.ValidationFailed(details={"body": ["must be a JSON object"]})
    return payload
