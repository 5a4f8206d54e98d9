"""An OpenAI-compatible chat server on loopback that misbehaves on purpose: for testing that
a client or a run survives 429s, 5xx, malformed JSON, slow answers and dropped connections.

``faults`` is a list consumed one request at a time: ``"429"``, ``"500"``, ``"malformed"``
(invalid JSON), ``"slow"`` (answers after ``slow_seconds``), ``"drop"`` (closes the
connection without answering); when it is empty the server answers normally with letter
``A`` and log-probabilities. It counts the requests it answered successfully per prompt.
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
    def __init__(self, faults: list[str] | None = None, slow_seconds: float = 1.0) -> None:
        self.faults = list(faults or [])
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.answered: Counter[str] = Counter()
        self.received = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.received += 1
                    fault = server.faults.pop(0) if server.faults else None
                if fault == "drop":
                    self.connection.close()
                    return
                if fault in ("429", "500"):
                    self.send_response(int(fault))
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                if fault == "slow":
                    time.sleep(server.slow_seconds)
                payload = {
                    "choices": [
                        {
                            "message": {"role": "assistant", "content": "A"},
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
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out on a slow answer, as intended

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
