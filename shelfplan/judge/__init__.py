"""Judging layouts on loans: evaluate, compare, loan statistics."""
