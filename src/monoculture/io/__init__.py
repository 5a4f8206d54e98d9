"""Readers for long tables of responses and for agent or item attribute tables."""

from monoculture.io.tables import read_responses, read_table

__all__ = ["read_responses", "read_table"]
