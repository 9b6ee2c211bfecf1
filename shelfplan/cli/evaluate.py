"""Commands evaluate, compare, import-positions, report (issue 4)."""

from __future__ import annotations
