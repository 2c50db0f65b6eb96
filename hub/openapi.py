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


def canonical_paths(result: dict, generator, request, public) -> dict:
    """Routes accept an optional trailing slash (`/?$`); the schema shows SPEC's form, without it."""
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result["paths"].items()}
    return result
