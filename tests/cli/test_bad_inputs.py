"""The bad-input corpus: every file in bad_inputs/ through ``monoculture analyze``.

Each line of bad_inputs/cases.csv is one case: the input file (``.`` is the folder itself),
extra options (``{tmp}``: a fresh temporary folder, ``{dir}``: bad_inputs/), the exit
status, and a fragment the output must hold. A new failure mode is one new line there.
"""

from __future__ import annotations

import csv
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monoculture.cli.main import app

CORPUS = Path(__file__).parent / "bad_inputs"


def _cases() -> list[dict[str, str]]:
    with (CORPUS / "cases.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "case", _cases(), ids=lambda case: f"{case['file']} {case['args']}".strip()
)
def test_bad_input_corpus(case: dict[str, str], tmp_path: Path) -> None:
    def fill(text: str) -> str:
        return text.replace("{tmp}", str(tmp_path)).replace("{dir}", str(CORPUS))

    args = [
        "analyze",
        str(CORPUS / case["file"]),
        "--no-progress",
        "--bootstrap",
        "0",
        *(fill(arg) for arg in shlex.split(case["args"])),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == int(case["exit_code"]), result.output
    assert fill(case["message"]) in result.output
    assert "Traceback" not in result.output
    if result.stderr.startswith("error:"):
        # Our own errors are one line on stderr, and nothing reaches stdout.
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stdout == ""


def test_corpus_covers_every_file() -> None:
    # Catches a corpus file that no case uses (a failure mode written down but never run).
    used = {case["file"] for case in _cases()}
    present = {path.name for path in CORPUS.iterdir() if path.name != "cases.csv"}
    assert present <= used
