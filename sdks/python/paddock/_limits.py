"""Limits as a Python caller may spell them: the API's keys, or snake_case ones."""

from __future__ import annotations

from typing import TypedDict, Union, cast

from ._types import LimitsInput


class Limits(TypedDict, total=False):
    """A sandbox's limits in Python's spelling: ``{"memory_mib": 512, "cpus": 1}``."""

    memory_mib: int
    cpus: float
    pids: int
    disk_mib: int


AnyLimits = Union[Limits, LimitsInput]

_API_KEYS = {"memory_mib": "memoryMiB", "disk_mib": "diskMiB"}


def api_limits(limits: AnyLimits | None) -> LimitsInput | None:
    """The API's spelling of ``limits`` (either spelling in, the API's out; an unknown key goes on, for the daemon to name)."""
    if limits is None:
        return None
    return cast(LimitsInput, {_API_KEYS.get(key, key): value for key, value in limits.items()})
