"""Shared OpenAPI pieces: the error shape every endpoint answers with."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ERROR = inline_serializer(
    "Error",
    {
        "status": serializers.CharField(help_text="The error code again (success bodies say OK)."),
        "error": inline_serializer("ErrorDetail", {
            "code": serializers.CharField(), "message": serializers.CharField(),
            "details": serializers.JSONField(allow_null=True),
        }),
    },
)


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ERROR, description=description)


# What any operation can answer, whatever its own: documented once, here, for all of them.
COMMON_ERRORS = {
    "503": "SERVICE_UNAVAILABLE (with Retry-After): the database is unreachable; or OVERLOADED (Retry-After: 1): the "
           "request waited longer than HUB_QUEUE_TIMEOUT_MS for the hub to start it. Nothing was written; retry as is",
}
BODY_ERRORS = {"413": "PAYLOAD_TOO_LARGE: the body is over 1 MiB"}


def common_errors(result: dict, generator, request, public) -> dict:
    """Every operation lists the answers every endpoint can give (a database outage: 503; a body over
    1 MiB: 413), so no route's schema forgets them (hub/tests/test_openapi.py sends each one)."""
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result["paths"].values():
        for method, operation in item.items():
            errors = {**COMMON_ERRORS, **(BODY_ERRORS if method in {"post", "put", "patch"} else {})}
            for status, description in errors.items():
                operation["responses"].setdefault(status, {"description": description, "content": reference})
    return result


def canonical_paths(result: dict, generator, request, public) -> dict:
    """Routes accept an optional trailing slash (`/?$`); the schema shows SPEC's form, without it."""
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result["paths"].items()}
    return result
