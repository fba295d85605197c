"""Work that follows a schema upgrade (later: generating the tool's first RSA key)."""
from __future__ import annotations

from typing import Callable

from flask import Flask

_after_upgrade: list[Callable[[Flask], None]] = []


def after_upgrade(func: Callable[[Flask], None]) -> Callable[[Flask], None]:
    if func not in _after_upgrade:
        _after_upgrade.append(func)
    return func


def run_after_upgrade(app: Flask) -> None:
    for func in _after_upgrade:
        func(app)
