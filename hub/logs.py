"""Structured JSON logging: structlog for our code, the same renderer for stdlib loggers.

Every line carries the correlation id bound by `hub.middleware` (contextvars), and values
under sensitive keys are redacted before rendering.
"""

import functools
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from structlog.typing import Processor

from hub.internals import skip_caller_lookup

SENSITIVE_KEY = re.compile(r"secret|signature|password|authorization|api[_-]?key|token|x-auth|cookie|phone|mobile", re.I)
REDACTED = "[redacted]"


@functools.lru_cache(maxsize=1024)
def _sensitive(key: str) -> bool:
    """Cached: a log line's keys are the same few names line after line (a sixth of a line's cost)."""
    return SENSITIVE_KEY.search(key) is not None


def redact(value: Any) -> Any:
    """Return `value` with every value under a sensitive-looking key replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if _sensitive(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value


def redact_sensitive(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return redact(event_dict)


SHARED_PROCESSORS: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact_sensitive,
]


def build_logging_config(*, level: str, fmt: str) -> dict:
    """Configure structlog and return the matching stdlib `LOGGING` dict."""
    skip_caller_lookup()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
                "foreign_pre_chain": SHARED_PROCESSORS,
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django logs every 4xx as a warning; our access line already says it.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
        },
    }
