"""A small OpenAI-compatible ``/v1/chat/completions`` server on 127.0.0.1 for tests.

Answers deterministically (``answer_fn(prompt)``, by default the prompt's last line), and can be
scripted to fail: ``server.script.extend(["429", "500", "sleep:2"])`` makes the next requests
answer 429 (with ``Retry-After: 0``), 500, or stall for 2 s before answering; any other status
code works too (``"503"``), ``"429:3"`` sends ``Retry-After: 3`` and ``"echo-auth:401"`` answers
401 with the request's Authorization header in the body (as a careless server might). Every
request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


def last_line(prompt: str) -> str:
    return prompt.strip().splitlines()[-1].removeprefix("Input: ")


class OpenAIServer:
    def __init__(self, answer_fn: Callable[[str], str] = last_line, delay: float = 0.0):
        self.answer_fn = answer_fn
        self.delay = delay
        self.script: list[str] = []
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server.lock:
                    server.requests.append({"path": self.path, "body": body,
                                            "auth": self.headers.get("Authorization")})
                    action = server.script.pop(0) if server.script else ""
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": "not found"})
                if action.startswith("echo-auth:"):
                    return self._send(int(action.split(":", 1)[1]),
                                      {"error": {"message": f"bad key {self.headers.get('Authorization')}"}})
                code, _, after = action.partition(":")
                if code.isdigit():
                    retry_after = after or ("0" if code == "429" else "")
                    return self._send(int(code), {"error": {"message": "scripted failure"}},
                                      {"Retry-After": retry_after} if retry_after else None)
                if action.startswith("sleep:"):
                    time.sleep(float(action.split(":", 1)[1]))
                if server.delay:
                    time.sleep(server.delay)
                prompt = body["messages"][-1]["content"]
                self._send(200, {"id": "x", "object": "chat.completion", "model": body.get("model"),
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": server.answer_fn(prompt)}}]})

            def _send(self, code: int, obj: dict, headers: dict | None = None):
                data = json.dumps(obj).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "OpenAIServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
