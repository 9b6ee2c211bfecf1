"""Presenting layouts: figures, interactive HTML, the committee report."""
