"""Strict sameness of decoded events: what the fast decoder's tests compare with the library's answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def assert_same(got: Any, expected: Any, where: str = "") -> None:
    """Equal, of the same type all the way down, dicts in the same key order, times with the same offset."""
    assert type(got) is type(expected), (where, got, expected)
    if isinstance(expected, dict):
        assert list(got) == list(expected), where
        for key in expected:
            assert_same(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected), where
        for n, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert_same(a, b, f"{where}[{n}]")
    elif isinstance(expected, datetime):
        assert got.isoformat() == expected.isoformat(), where
        assert got.tzinfo == expected.tzinfo, where
    elif isinstance(expected, float):
        assert repr(got) == repr(expected), where
    else:
        assert got == expected, where
