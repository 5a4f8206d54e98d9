"""Readers and writers: long tables, Inspect AI logs, lm-evaluation-harness samples, HELM runs,
saved `Responses`, and public item-level data sets.

`read_responses` reads any of them, telling the format from the content (`detect_format`).
"""

from monoculture.io._datasets import DataSet, get_dataset, list_datasets
from monoculture.io._detect import InputFormat, detect_format
from monoculture.io._helm import read_helm_runs
from monoculture.io._inspect import read_inspect_logs
from monoculture.io._lm_eval import read_lm_eval_samples
from monoculture.io._saved import read_saved_responses, write_responses
from monoculture.io.long_table import LongColumns, responses_from_long, responses_to_long
from monoculture.io.tables import check_responses_path, read_responses, read_table

__all__ = [
    "DataSet",
    "InputFormat",
    "LongColumns",
    "check_responses_path",
    "detect_format",
    "get_dataset",
    "list_datasets",
    "read_helm_runs",
    "read_inspect_logs",
    "read_lm_eval_samples",
    "read_responses",
    "read_saved_responses",
    "read_table",
    "responses_from_long",
    "responses_to_long",
    "write_responses",
]
