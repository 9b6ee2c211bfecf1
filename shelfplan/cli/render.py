"""Command render (issue 3): filled in by the render work."""

from __future__ import annotations
