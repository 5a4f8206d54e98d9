"""Readers and writers: long tables of responses, agent and item attribute tables."""

from monoculture.io.long_table import LongColumns, responses_from_long, responses_to_long
from monoculture.io.tables import read_responses, read_table

__all__ = [
    "LongColumns",
    "read_responses",
    "read_table",
    "responses_from_long",
    "responses_to_long",
]
