"""Log readers: 50 lm-eval sample files of 10,000 lines and 50 Inspect logs of 1,000 samples,
each read into one `Responses`, against the issue's target of 10 s on 2 cores.

The inputs are generated here from the structure of the committed fixtures
(tests/fixtures/): every lm-eval line is a fixture line of the multiple-choice task with a new
``doc_id``, ``doc_hash`` and log-likelihoods; every Inspect log is the fixture's ``alpha.eval``
with 1,000 samples (header, summaries and one sample file each, Zstandard members, as
inspect_ai writes them).
Run: ``.venv/bin/python benchmarks/bench_readers.py [--files N] [--lines N] [--samples N]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import struct
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import zstandard

from monoculture.io import read_inspect_logs, read_lm_eval_samples
from monoculture.io._zip import ZipArchive

TARGET_S = 10.0
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def lm_eval_files(folder: Path, n_files: int, n_lines: int) -> None:
    (template_path,) = (FIXTURES / "lm_eval" / "model-alpha").glob("samples_mono_mc_*.jsonl")
    templates = [json.loads(line) for line in template_path.read_text().splitlines()]
    rng = random.Random(0)
    for f in range(n_files):
        model = folder / f"model-{f:02d}"
        model.mkdir()
        lines = []
        for doc_id in range(n_lines):
            record = copy.deepcopy(templates[doc_id % len(templates)])
            record["doc_id"] = doc_id
            record["doc_hash"] = f"{doc_id:064x}"
            ll = [-rng.random() * (1 + (k == doc_id % 4)) for k in range(4)]
            record["resps"] = [[[str(v), "False"]] for v in ll]
            record["filtered_resps"] = [[str(v), "False"] for v in ll]
            best = max(range(4), key=ll.__getitem__)
            record["acc"] = float(best == int(record["target"]))
            lines.append(json.dumps(record))
        (model / "samples_mono_mc_2026-01-01T00-00-00.000000.jsonl").write_text(
            "\n".join(lines) + "\n"
        )


def _zip_zstd(path: Path, members: dict[str, bytes]) -> None:
    """A zip whose members are Zstandard-compressed (method 93), as inspect_ai writes."""
    compressor = zstandard.ZstdCompressor(level=3)
    out, central = bytearray(), bytearray()
    for name, data in members.items():
        packed = compressor.compress(data)
        crc = zlib.crc32(data)
        encoded = name.encode()
        offset = len(out)
        out += struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            63,
            0,
            93,
            0,
            0,
            crc,
            len(packed),
            len(data),
            len(encoded),
            0,
        )
        out += encoded + packed
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            63,
            63,
            0,
            93,
            0,
            0,
            crc,
            len(packed),
            len(data),
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += encoded
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0
    )
    path.write_bytes(bytes(out + central + end))


def inspect_logs(folder: Path, n_logs: int, n_samples: int) -> None:
    with ZipArchive(FIXTURES / "inspect" / "alpha.eval") as archive:
        header = archive.read_json("header.json")
        summary = archive.read_json("summaries.json")[0]
        sample = archive.read_json(next(n for n in archive.names if n.startswith("samples/")))
    rng = random.Random(1)
    for f in range(n_logs):
        log_header: dict[str, Any] = copy.deepcopy(header)
        log_header["eval"]["model"] = f"mockllm/model-{f:02d}"
        summaries, members = [], {}
        for i in range(n_samples):
            letter = "ABCD"[rng.randrange(4)]
            right = rng.random() < 0.6
            scores = {
                "match": {"value": "C" if right else "I", "answer": letter, "explanation": letter},
                "includes": {"value": "C" if right else "I", "answer": letter},
            }
            entry = {**summary, "id": f"q{i}", "epoch": 1, "scores": scores}
            summaries.append(entry)
            full = {**sample, "id": f"q{i}", "epoch": 1, "scores": scores}
            members[f"samples/q{i}_epoch_1.json"] = json.dumps(full).encode()
        members["header.json"] = json.dumps(log_header).encode()
        members["summaries.json"] = json.dumps(summaries).encode()
        _zip_zstd(folder / f"log-{f:02d}.eval", members)


def timed(label: str, read: Any) -> float:
    start = time.perf_counter()
    responses = read()
    seconds = time.perf_counter() - start
    print(
        f"{label}: {seconds:.2f} s for {responses.n_items:,} items x {responses.n_agents} agents "
        f"(target < {TARGET_S:.0f} s: {seconds / TARGET_S:.2f} of the target, "
        f"{TARGET_S / seconds:.1f}x headroom)"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=50, help="models (files or logs)")
    parser.add_argument("--lines", type=int, default=10_000, help="lines per lm-eval file")
    parser.add_argument("--samples", type=int, default=1_000, help="samples per Inspect log")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        (root / "lm_eval").mkdir()
        lm_eval_files(root / "lm_eval", args.files, args.lines)
        (root / "inspect").mkdir()
        inspect_logs(root / "inspect", args.files, args.samples)
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        print(f"generated {size:,.0f} MB of inputs in {time.perf_counter() - start:.1f} s")
        timed(
            f"lm-eval, {args.files} files x {args.lines:,} lines",
            lambda: read_lm_eval_samples(root / "lm_eval"),
        )
        timed(
            f"Inspect, {args.files} .eval logs x {args.samples:,} samples",
            lambda: read_inspect_logs(root / "inspect"),
        )


if __name__ == "__main__":
    main()
