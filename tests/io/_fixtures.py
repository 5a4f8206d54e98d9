"""Paths of the committed fixtures made by the real tools (see tests/fixtures/README.md)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
INSPECT = FIXTURES / "inspect"
LM_EVAL = FIXTURES / "lm_eval"
HELM = FIXTURES / "helm"
