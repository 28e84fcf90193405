"""The plumbing of every widget: run an update, show its failure in the widget, re-raise if asked."""

from __future__ import annotations

import html
from typing import Any, Callable

__all__ = ["on_change"]


def on_change(box: Any, update: Callable[[Any], None], change: Any = None) -> None:
    """Run ``update(box)``; show a failure in ``box.error`` and re-raise if asked."""
    try:
        update(box)
    except Exception as exc:
        box.error.value = (
            "<pre style='color:#b00020;white-space:pre-wrap'>update failed: "
            f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</pre>"
        )
        if getattr(box, "raise_errors", False):
            raise
    else:
        box.error.value = ""
