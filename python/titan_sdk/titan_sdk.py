"""Titan's module path: ``from titan_sdk.titan_sdk import TitanClient, TitanJob, TITAN_HOST, TITAN_PORT``.

``TITAN_HOST`` and ``TITAN_PORT`` reflect the environment each time they are read (Titan read
them once, at import). A script may still assign them, as with Titan
(``titan_sdk.titan_sdk.TITAN_HOST = "10.0.0.5"``): clients created without a host or port then
use the assigned values. ``TITAN_TOKEN`` is read the same way.
"""

import os
from typing import Any

from .client import TitanClient
from .errors import BadRequestError, TitanConnectionError, TitanError
from .jobs import TitanJob

__all__ = ["TitanClient", "TitanJob", "TitanError", "TitanConnectionError", "TITAN_HOST", "TITAN_PORT"]


def __getattr__(name: str) -> Any:
    if name == "TITAN_HOST":
        return os.environ.get("TITAN_HOST") or "127.0.0.1"
    if name == "TITAN_PORT":
        raw = os.environ.get("TITAN_PORT") or "9090"
        try:
            return int(raw)
        except ValueError:
            raise BadRequestError("TITAN_PORT must be a port number from 1 to 65535, got {!r}".format(raw))
    if name == "TITAN_TOKEN":
        return os.environ.get("TITAN_TOKEN")
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))


def __dir__() -> "list[str]":
    return sorted(list(globals()) + ["TITAN_HOST", "TITAN_PORT", "TITAN_TOKEN"])
