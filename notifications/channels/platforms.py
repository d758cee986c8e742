"""The platforms by code."""

from __future__ import annotations

from . import dingtalk, feishu, wecom
from .base import Platform

PLATFORMS: dict[str, Platform] = {
    "wecom": wecom.PLATFORM,
    "dingtalk": dingtalk.PLATFORM,
    "feishu": feishu.PLATFORM,
}


def get(code: str) -> Platform:
    return PLATFORMS[code]
