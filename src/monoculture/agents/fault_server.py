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
that always fails). It counts the requests it answered successfully per prompt, and keeps
the ``Authorization`` headers it received.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FaultServer"]


class FaultServer:
    def __init__(
        self,
        faults: list[str] | None = None,
        slow_seconds: float = 1.0,
        *,
        fault: str | None = None,
    ) -> None:
        self.faults = list(faults or [])
        self.fault = fault
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.answered: Counter[str] = Counter()
        self.received = 0
        self.authorizations: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                authorization = self.headers.get("Authorization")
                with server.lock:
                    server.received += 1
                    server.authorizations.append(authorization)
                    fault = server.faults.pop(0) if server.faults else server.fault
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
                    time.sleep(server.slow_seconds)
                content = "A" if fault != "echo" else f"A (you sent {authorization})"
                payload = {
                    "choices": [
                        {
                            "message": {"role": "assistant", "content": content},
                            "logprobs": {
                                "content": [
                                    {
                                        "token": "A",
                                        "logprob": -0.2,
                                        "top_logprobs": [
                                            {"token": "A", "logprob": -0.2},
                                            {"token": "B", "logprob": -1.8},
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

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        # A short poll keeps shutdown (and so each test using the server) quick.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
