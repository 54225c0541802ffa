"""Progress lines for long commands, on standard error so output stays clean."""

from __future__ import annotations

import time

import click


class Progress:
    def __init__(self, label: str = "") -> None:
        self.start = time.perf_counter()
        self.label = label

    def __call__(self, message: str) -> None:
        elapsed = time.perf_counter() - self.start
        prefix = f"{self.label}: " if self.label else ""
        click.echo(f"[{elapsed:6.1f}s] {prefix}{message}", err=True)
