"""An OpenAI-compatible chat server on loopback that misbehaves on purpose: for testing that
a client or a run survives 429s, 5xx, malformed JSON, slow answers and dropped connections,
stops on errors a retry cannot fix, and never stores a key a server echoes.

``faults`` is a list consumed one request at a time: an HTTP status such as ``"429"``,
``"500"`` or ``"401"`` (answered with that status and an error body in the OpenAI style,
whose message quotes the request's ``Authorization`` header, as some servers do),
``"malformed"`` (invalid JSON), ``"slow"`` (answers after ``slow_seconds``), ``"drop"``
(closes the connection without answering), ``"echo"`` (a normal answer whose text quotes the
``Authorization`` header); when it is empty the server answers normally with letter ``A``
and log-probabilities (``fault`` set: every request gets that fault instead, for an endpoint
that always fails). ``answer="hash"`` answers with a letter chosen by the hash of the
request instead (`FaultServer.letter_for`), so that a request sent with another prompt, seed
or temperature gets, in general, another answer. ``hold_after=N`` answers the first N
requests and holds every later one until `release` (for killing a client mid-step).

It counts the requests it received and those it answered successfully per prompt, keeps
the request bodies and the ``Authorization`` headers it received, and `wait_idle` waits
until no request is being handled (a test waits on that, never on a sleep). Leaving the
``with`` block releases held and slow requests and waits for every handler to finish.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

__all__ = ["FaultServer"]


class FaultServer:
    def __init__(
        self,
        faults: list[str] | None = None,
        slow_seconds: float = 1.0,
        *,
        fault: str | None = None,
        answer: Literal["A", "hash"] = "A",
        hold_after: int | None = None,
    ) -> None:
        if answer not in ("A", "hash"):
            raise ValueError(f"answer must be 'A' or 'hash'; got {answer!r}.")
        self.faults = list(faults or [])
        self.fault = fault
        self.slow_seconds = slow_seconds
        self.answer = answer
        self.hold_after = hold_after
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.in_flight = 0
        self.answered: Counter[str] = Counter()
        self.received = 0
        self.held = 0
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        self.released = threading.Event()
        self.closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                authorization = self.headers.get("Authorization")
                with server.lock:
                    server.received += 1
                    number = server.received
                    server.requests.append(body)
                    server.authorizations.append(authorization)
                    fault = server.faults.pop(0) if server.faults else server.fault
                    hold = server.hold_after is not None and number > server.hold_after
                    if hold:
                        server.held += 1
                        server.idle.notify_all()
                if hold:
                    server.released.wait()
                if fault == "drop":
                    self.connection.close()
                    return
                if fault is not None and fault.isdigit():
                    error = {
                        "error": {
                            "message": f"fault server: status {fault}; you sent "
                            f"Authorization: {authorization}",
                            "type": "invalid_request_error",
                        }
                    }
                    self._send(int(fault), json.dumps(error).encode())
                    return
                if fault == "slow":
                    server.closing.wait(server.slow_seconds)
                letter = "A" if server.answer == "A" else FaultServer.letter_for(body)
                content = letter if fault != "echo" else f"{letter} (you sent {authorization})"
                other = "B" if letter != "B" else "A"
                payload = {
                    "choices": [
                        {
                            "message": {"role": "assistant", "content": content},
                            "logprobs": {
                                "content": [
                                    {
                                        "token": letter,
                                        "logprob": -0.2,
                                        "top_logprobs": [
                                            {"token": letter, "logprob": -0.2},
                                            {"token": other, "logprob": -1.8},
                                        ],
                                    }
                                ]
                            },
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 1},
                }
                text = b"{not json" if fault == "malformed" else json.dumps(payload).encode()
                if fault != "malformed":
                    with server.lock:
                        server.answered[body["messages"][-1]["content"]] += 1
                self._send(200, text)

            def _send(self, status: int, text: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out on a slow answer, as intended

        class Server(ThreadingHTTPServer):
            # Counted from the accept, so `wait_idle` also waits for a handler not yet begun.
            def process_request(self, request: Any, client_address: Any) -> None:
                with server.lock:
                    server.in_flight += 1
                try:
                    super().process_request(request, client_address)
                except BaseException:
                    server._handled()
                    raise

            def process_request_thread(self, request: Any, client_address: Any) -> None:
                try:
                    super().process_request_thread(request, client_address)
                finally:
                    server._handled()

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        # A short poll keeps shutdown (and so each test using the server) quick.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @staticmethod
    def letter_for(request: dict[str, Any]) -> str:
        """The letter ``answer="hash"`` gives ``request``: one of the letters its grammar
        allows (``A`` or ``B`` without a grammar), chosen by the sha256 of its canonical
        JSON."""
        canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
        letters = re.findall(r'"([A-Z])"', str(request.get("grammar", ""))) or ["A", "B"]
        digest = hashlib.sha256(canonical.encode()).digest()
        return str(letters[int.from_bytes(digest[:8], "big") % len(letters)])

    def _handled(self) -> None:
        with self.lock:
            self.in_flight -= 1
            self.idle.notify_all()

    def release(self) -> None:
        """Answer the held requests, and hold no more."""
        self.released.set()

    def wait_held(self, count: int, timeout: float | None = None) -> bool:
        """Wait until at least ``count`` requests are held (at most ``timeout`` seconds);
        whether they are."""
        with self.idle:
            return self.idle.wait_for(lambda: self.held >= count, timeout)

    def wait_idle(self, timeout: float = 120.0) -> None:
        """Wait until no request is being handled; `TimeoutError` after ``timeout`` seconds
        (a safety net against a hung test, not a measurement)."""
        with self.idle:
            if not self.idle.wait_for(lambda: self.in_flight == 0, timeout):
                raise TimeoutError(f"fault server: {self.in_flight} requests still in flight")

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
        self.wait_idle()
