"""`monoculture data`: the registry, and downloads against a loopback HTTP server started here
(checksum mismatch, an interrupted transfer then resume, a server error). No test touches
the internet."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import typer
from click.testing import CliRunner

from monoculture.cli.data import app
from monoculture.errors import InputError
from monoculture.io import get_dataset, list_datasets, read_responses


def _archive(agent_answers: list[str]) -> bytes:
    """An MMLU-Pro eval_results zip: one JSON list of records (their layout)."""
    records = [
        {
            "question_id": 70 + k,
            "options": ["w", "x", "y", "z"],
            "answer": gold,
            "answer_index": "ABCD".index(gold),
            "category": "math" if k < 2 else "law",
            "src": "ori_mmlu",
            "pred": pred,
        }
        for k, (gold, pred) in enumerate(zip("ABCD", agent_answers, strict=True))
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model_outputs.json", json.dumps(records))
    return buffer.getvalue()


FILES = {"/m1.zip": _archive(["A", "C", "C", None]), "/m2.zip": _archive(["A", "B", "D", "D"])}


class _Server:
    """Serves FILES; ``/cut/...`` sends half the body and closes on the first request only;
    ``/error/...`` answers 500. Honours ``Range``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        served = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                served.requests.append((self.path, self.headers.get("Range")))
                if self.path.startswith("/error/"):
                    self.send_error(500)
                    return
                key = "/" + self.path.rsplit("/", 1)[-1]
                body = FILES[key]
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].rstrip("-"))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                first_cut = self.path.startswith("/cut/") and not any(
                    p == self.path for p, _ in served.requests[:-1]
                )
                self.wfile.write(body[start : len(body) // 2] if first_cut else body[start:])
                if first_cut:
                    self.wfile.flush()
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server()
    yield running
    running.close()


def _registry(
    tmp_path: Path, base: str, *, prefix: str = "", sha: dict[str, str] | None = None
) -> Path:
    digests = {k: hashlib.sha256(v).hexdigest() for k, v in FILES.items()} | (sha or {})
    lines = [
        "version = 1",
        "[[dataset]]",
        'name = "tiny"',
        'description = "two fake models"',
        'licence = "CC0"',
        'converter = "mmlu_pro"',
    ]
    for key, agent in (("/m1.zip", "m1"), ("/m2.zip", "m2")):
        lines += [
            "[[dataset.file]]",
            f'url = "{base}{prefix}{key}"',
            f'path = "{key[1:]}"',
            f'agent = "{agent}"',
            f'sha256 = "{digests[key]}"',
            f"size = {len(FILES[key])}",
        ]
    path = tmp_path / "registry.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_download_verifies_converts_and_renames(server: _Server, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    folder = get_dataset(
        "tiny",
        tmp_path / "out",
        registry=_registry(tmp_path, server.url),
        progress=lambda label, done, total: seen.append((label, done, total)),
    )
    assert folder == tmp_path / "out" / "tiny"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["tiny"]  # no leftovers
    r = read_responses(folder / "responses.parquet")
    assert r.agents.tolist() == ["m1", "m2"]
    # m1 answers A, C, C and nothing against gold A, B, C, D; unparsed counts as wrong.
    assert r.correct.tolist() == [[1, 1], [0, 1], [1, 0], [0, 1]]
    assert r.item_attrs["category"].tolist() == ["math", "math", "law", "law"]
    source = json.loads((folder / "SOURCE.json").read_text())
    assert source["verified"] is True
    assert seen[-1][1] == seen[-1][2] == len(FILES["/m2.zip"])
    # Complete already: returned without a request.
    before = len(server.requests)
    get_dataset("tiny", tmp_path / "out", registry=_registry(tmp_path, server.url))
    assert len(server.requests) == before


def test_checksum_mismatch_deletes_the_file(server: _Server, tmp_path: Path) -> None:
    registry = _registry(tmp_path, server.url, sha={"/m2.zip": "0" * 64})
    with pytest.raises(InputError, match=r"m2\.zip: checksum mismatch: expected SHA-256 0{64}"):
        get_dataset("tiny", tmp_path / "out", registry=registry)
    partial = tmp_path / "out" / ".tiny.partial" / "raw"
    assert sorted(p.name for p in partial.iterdir()) == ["m1.zip"]
    assert not (tmp_path / "out" / "tiny").exists()


def test_interrupted_transfer_resumes_with_a_range(server: _Server, tmp_path: Path) -> None:
    registry = _registry(tmp_path, server.url, prefix="/cut")
    with pytest.raises(InputError, match=r"interrupted.*run the command again to resume"):
        get_dataset("tiny", tmp_path / "out", registry=registry)
    assert not (tmp_path / "out" / "tiny").exists()
    part = tmp_path / "out" / ".tiny.partial" / "raw" / "m1.zip.part"
    assert part.stat().st_size == len(FILES["/m1.zip"]) // 2
    # Second run: m1 resumes from its half; m2 is cut the first time too.
    with pytest.raises(InputError, match=r"cut/m2\.zip: the transfer was interrupted"):
        get_dataset("tiny", tmp_path / "out", registry=registry)
    folder = get_dataset("tiny", tmp_path / "out", registry=registry)
    assert (folder / "responses.parquet").is_file()
    for key in ("/m1.zip", "/m2.zip"):
        assert (f"/cut{key}", f"bytes={len(FILES[key]) // 2}-") in server.requests
    assert read_responses(folder / "responses.parquet").n_agents == 2


def test_server_error_is_reported(server: _Server, tmp_path: Path) -> None:
    registry = _registry(tmp_path, server.url, prefix="/error")
    with pytest.raises(InputError, match=r"error/m1\.zip: the server answered HTTP 500"):
        get_dataset("tiny", tmp_path / "out", registry=registry)
    assert not (tmp_path / "out" / "tiny").exists()


def test_unpinned_data_set_needs_no_verify(server: _Server, tmp_path: Path) -> None:
    registry = _registry(tmp_path, server.url, sha={"/m1.zip": ""})
    with pytest.raises(InputError, match=r"no pinned SHA-256.*--no-verify"):
        get_dataset("tiny", tmp_path / "out", registry=registry)
    folder = get_dataset("tiny", tmp_path / "out", registry=registry, verify=False)
    source = json.loads((folder / "SOURCE.json").read_text())
    assert source["verified"] is False
    assert source["files"][0]["sha256"] == hashlib.sha256(FILES["/m1.zip"]).hexdigest()


def test_packaged_registry_is_complete() -> None:
    # Every entry has a description, a licence, https URLs and a known converter; the
    # checksums are honest: none is pinned yet (written offline), so `get` needs --no-verify.
    sets = {ds.name: ds for ds in list_datasets()}
    assert {"mmlu-pro", "zeroeval-gsm", "open-llm-leaderboard-mmlu-pro"} <= set(sets)
    for ds in sets.values():
        assert ds.description
        assert ds.licence
        assert ds.files
        assert all(f.url.startswith("https://") and f.path for f in ds.files)
        assert len({f.path for f in ds.files}) == len(ds.files)
        assert not ds.pinned
    assert len({f.agent for f in sets["mmlu-pro"].files}) == 31


def test_cli_list_and_get(server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command = typer.main.get_command(app)
    listed = CliRunner().invoke(command, ["list"])
    assert listed.exit_code == 0
    assert "mmlu-pro" in listed.output
    assert "not pinned yet" in listed.output
    refused = CliRunner().invoke(command, ["get", "mmlu-pro", "-o", str(tmp_path)])
    assert refused.exit_code == 2
    assert "--no-verify" in refused.output
    unknown = CliRunner().invoke(command, ["get", "nope"])
    assert unknown.exit_code == 2
    assert "unknown data set 'nope'" in unknown.output

    monkeypatch.setenv("MONOCULTURE_DATA_REGISTRY", str(_registry(tmp_path, server.url)))
    got = CliRunner().invoke(command, ["get", "tiny", "-o", str(tmp_path / "out")])
    assert got.exit_code == 0, got.output
    assert "monoculture analyze" in got.output
    # Off a terminal, progress is plain lines (on stderr), one per file started and finished.
    assert "tiny 1/2 m1.zip: finished" in got.stderr
