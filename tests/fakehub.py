"""A small fake Hugging Face Hub on 127.0.0.1, for tests of code that pushes to / pulls from the Hub.

It speaks the subset of the Hub HTTP API that ``huggingface_hub`` (2.x, without ``hf_xet``, or
with ``HF_HUB_DISABLE_XET=1``) uses to create repos, commit files and download them:

* ``POST /api/repos/create`` (a Space's ``sdk`` is kept: ``hub.repo(id).space_sdk``),
  ``GET /api/whoami-v2``, ``POST /api/validate-yaml``;
* ``POST /api/<type>s/<repo>/preupload/<rev>`` (every file is uploaded "regular", inline);
* ``POST /api/<type>s/<repo>/commit/<rev>`` (NDJSON: header, file, deletedFile, deletedFolder);
* ``GET /api/<type>s/<repo>[/revision/<rev>]`` (repo info with ``sha`` and ``siblings``);
* ``GET /api/<type>s/<repo>/tree/<rev>[/<path>]`` (``recursive`` supported);
* ``HEAD``/``GET /[<type>s/]<repo>/resolve/<rev>/<path>`` (with ``X-Repo-Commit`` and ``ETag``).

Everything it receives is recorded: ``hub.repos[repo_id]`` (files, private flag, commits) and
``hub.commits`` (repo, message, files added/deleted, in order), ``hub.validated`` (repo type and
content of every card sent to ``validate-yaml``; dataset cards also get a few of the Hub's checks of
``configs`` and ``dataset_info``). ``hub.fail(...)`` makes matching
requests answer an error (e.g. 500 on commits whose message starts with "Training in progress").

Use it in-process with the ``fake_hub`` fixture and ``hub.patch(monkeypatch)``, or give a
subprocess ``hub.env()`` (``HF_ENDPOINT``, ``HF_HUB_OFFLINE=0``, a dummy ``HF_TOKEN``...):
``huggingface_hub`` reads these variables when it is imported.

    (the fake_hub fixture is in tests/conftest.py)

    def test_push(fake_hub, monkeypatch):
        fake_hub.patch(monkeypatch)
        ...
        assert fake_hub.commits[-1].message == "End of training"
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

TOKEN = "hf_fakehubtoken"
USER = "tester"
REPO_TYPES = ("model", "dataset", "space")


def git_blob_oid(content: bytes) -> str:
    """The git blob sha1 of ``content`` (what the Hub reports as a regular file's oid)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Commit:
    repo_id: str
    repo_type: str
    oid: str
    message: str
    description: str
    added: list[str]
    deleted: list[str]
    revision: str
    files: dict[str, bytes] = field(repr=False, default_factory=dict)  # snapshot after the commit


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[Commit] = field(default_factory=list)
    space_sdk: str | None = None  # Space repos: the ``sdk`` sent to ``create_repo`` (gradio, docker, static)

    @property
    def head(self) -> str:
        return self.commits[-1].oid if self.commits else "0" * 40

    def snapshot(self, revision: str) -> tuple[str, dict[str, bytes]] | None:
        if revision in ("main", self.head):
            return self.head, self.files
        for c in self.commits:
            if c.oid == revision:
                return c.oid, c.files
        return None


@dataclass
class Failure:
    status: int
    method: str | None
    path_contains: str | None
    message_startswith: str | None
    times: int | None
    hits: int = 0

    def matches(self, method: str, path: str, commit_message: str | None) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method != method:
            return False
        if self.path_contains and self.path_contains not in path:
            return False
        if self.message_startswith is not None and not (commit_message or "").startswith(self.message_startswith):
            return False
        return True


class FakeHub:
    """The server and everything it has been sent. Thread-safe."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.commits: list[Commit] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status answered)
        self.unhandled: list[tuple[str, str]] = []
        self.failures: list[Failure] = []
        self.failed: list[tuple[str, str, str | None]] = []  # (method, path, commit message) answered with an error
        self.validated: list[tuple[str, str]] = []  # (repoType, content) of every card sent to validate-yaml
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "FakeHub":
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakehub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeHub not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for a subprocess that should talk to this hub (and only to it)."""
        env = dict(base or {})
        env.pop("TRANSFORMERS_OFFLINE", None)
        env.update({
            "HF_ENDPOINT": self.url,
            "HF_HUB_OFFLINE": "0",
            "HF_TOKEN": TOKEN,
            "HF_HUB_DISABLE_XET": "1",  # no Xet storage here: inline "regular" uploads
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HUB_ETAG_TIMEOUT": "5",
            "HF_HUB_DOWNLOAD_TIMEOUT": "10",
        })
        return env

    def patch(self, monkeypatch) -> None:
        """Point this process's ``huggingface_hub`` (and transformers' shared client) at the fake hub."""
        from huggingface_hub import constants

        for k, v in self.env().items():
            monkeypatch.setenv(k, v)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
        monkeypatch.setattr(constants, "ENDPOINT", self.url)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", self.url + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        try:
            from huggingface_hub import hf_api

            monkeypatch.setattr(hf_api.api, "endpoint", self.url)
        except (ImportError, AttributeError):
            pass
        try:
            import transformers.utils.hub as th

            monkeypatch.setattr(th, "_hf_api", None)
        except (ImportError, AttributeError):
            pass

    # -- failure injection ------------------------------------------------------------------

    def fail(self, status: int = 500, *, method: str | None = None, path_contains: str | None = None,
             message_startswith: str | None = None, times: int | None = None) -> Failure:
        """Answer ``status`` to matching requests (``message_startswith`` matches commit summaries)."""
        f = Failure(status, method, path_contains, message_startswith, times)
        with self.lock:
            self.failures.append(f)
        return f

    def _failure_for(self, method: str, path: str, commit_message: str | None) -> Failure | None:
        with self.lock:
            for f in self.failures:
                if f.matches(method, path, commit_message):
                    f.hits += 1
                    self.failed.append((method, path, commit_message))
                    return f
        return None

    # -- queries for tests ------------------------------------------------------------------

    def repo(self, repo_id: str) -> Repo:
        return self.repos[repo_id]

    def messages(self, repo_id: str | None = None) -> list[str]:
        return [c.message for c in self.commits if repo_id is None or c.repo_id == repo_id]

    def wait_idle(self, seconds: float = 0.2, timeout: float = 10.0) -> None:
        """Wait until no request arrived for ``seconds`` (background uploads settled)."""
        end = time.monotonic() + timeout
        last = -1
        while time.monotonic() < end:
            n = len(self.requests)
            if n == last:
                return
            last = n
            time.sleep(seconds)


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet
        pass

    # -- plumbing ----------------------------------------------------------------------------

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, payload=None, *, headers: dict | None = None, raw: bytes | None = None,
              head: bool = False) -> None:
        body = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        self.send_response(status)
        if raw is None:
            self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        with self.hub.lock:
            self.hub.requests.append((self.command, self.path, status))

    def _error(self, status: int, message: str, code: str | None = None, head: bool = False) -> None:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, {"error": message}, headers=headers, head=head)

    def _authorized(self) -> bool:
        auth = self.headers.get("Authorization", "")
        return auth == f"Bearer {TOKEN}"

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = parse_qs(url.query)
        body = self._body() if method == "POST" else b""
        commit_message = None
        if "/commit/" in path and body:
            try:
                first = json.loads(body.split(b"\n", 1)[0])
                commit_message = first.get("value", {}).get("summary")
            except ValueError:
                pass
        failure = self.hub._failure_for(method, path, commit_message)
        if failure is not None:
            return self._error(failure.status, f"injected failure ({failure.status})", head=method == "HEAD")
        try:
            handled = self._route(method, path, query, body)
        except Exception as e:  # a bug in the fake, or a malformed request: answer 500 and record it
            self.hub.unhandled.append((method, f"{self.path}: {type(e).__name__}: {e}"))
            return self._error(500, f"fake hub error: {type(e).__name__}: {e}")
        if not handled:
            self.hub.unhandled.append((method, self.path))
            self._error(404, f"fake hub: no route for {method} {path}", head=method == "HEAD")

    # -- routes ------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict, body: bytes) -> bool:
        parts = [p for p in path.split("/") if p]
        if method == "POST" and path == "/api/repos/create":
            return self._create_repo(json.loads(body or b"{}"))
        if method == "GET" and path == "/api/whoami-v2":
            if not self._authorized():
                self._error(401, "Invalid credentials in Authorization header")
                return True
            self._send(200, {"type": "user", "name": USER, "fullname": "Test User", "orgs": [],
                             "auth": {"type": "access_token", "accessToken": {"role": "write"}}})
            return True
        if method == "GET" and path == "/api/agent-harnesses":  # huggingface_hub's user-agent registry
            self._send(200, {"standardEnvVars": [], "harnesses": {}})
            return True
        if method == "POST" and path == "/api/validate-yaml":
            return self._validate_yaml(json.loads(body or b"{}"))
        if len(parts) >= 4 and parts[0] == "api" and parts[1].rstrip("s") in REPO_TYPES:
            rtype = parts[1][:-1]
            repo_id = "/".join(parts[2:4])
            rest = parts[4:]
            if method == "POST" and len(rest) >= 2 and rest[0] == "preupload":
                return self._preupload(rtype, repo_id, "/".join(rest[1:]), json.loads(body or b"{}"))
            if method == "POST" and len(rest) >= 2 and rest[0] == "commit":
                return self._commit(rtype, repo_id, "/".join(rest[1:]), body)
            if method == "GET" and not rest:
                return self._repo_info(rtype, repo_id, "main")
            if method == "GET" and len(rest) >= 2 and rest[0] == "revision":
                return self._repo_info(rtype, repo_id, "/".join(rest[1:]))
            if method == "GET" and len(rest) >= 2 and rest[0] == "tree":
                return self._tree(rtype, repo_id, rest[1], "/".join(rest[2:]), query)
        # downloads: /<ns>/<name>/resolve/<rev>/<path> (models), /<type>s/<ns>/<name>/resolve/... (others)
        if method in ("GET", "HEAD") and "resolve" in parts:
            i = parts.index("resolve")
            if i in (2, 3) and len(parts) > i + 2:
                rtype = parts[0][:-1] if i == 3 else "model"
                repo_id = "/".join(parts[i - 2:i])
                return self._resolve(rtype, repo_id, parts[i + 1], "/".join(parts[i + 2:]), head=method == "HEAD")
        return False

    def _repo_or_404(self, rtype: str, repo_id: str, head: bool = False) -> Repo | None:
        repo = self.hub.repos.get(repo_id)
        if repo is None or repo.repo_type != rtype:
            self._error(404, f"Repository not found: {repo_id}", "RepoNotFound", head=head)
            return None
        return repo

    def _create_repo(self, payload: dict) -> bool:
        if not self._authorized():
            self._error(401, "Invalid credentials in Authorization header")
            return True
        name = payload.get("name")
        if not name:
            self._error(400, "name is required")
            return True
        repo_id = f"{payload.get('organization') or USER}/{name}"
        rtype = payload.get("type") or "model"
        prefix = "" if rtype == "model" else f"{rtype}s/"
        url = f"http://{self.headers.get('Host')}/{prefix}{repo_id}"
        private = payload.get("private")
        if private is None:
            private = payload.get("visibility") == "private"
        with self.hub.lock:
            if repo_id in self.hub.repos:
                self._send(409, {"error": "You already created this model repo", "url": url},
                           headers={"X-Error-Message": "You already created this model repo"})
                return True
            self.hub.repos[repo_id] = Repo(repo_id, rtype, bool(private),
                                           space_sdk=payload.get("sdk") if rtype == "space" else None)
        self._send(200, {"url": url, "name": repo_id, "id": repo_id})
        return True

    def _validate_yaml(self, payload: dict) -> bool:
        import yaml

        content = payload.get("content", "")
        with self.hub.lock:
            self.hub.validated.append((payload.get("repoType", "model"), content))
        errors = []
        if content.startswith("---"):
            end = content.find("\n---", 3)
            try:
                meta = yaml.safe_load(content[3:end] if end != -1 else content[3:])
                if meta is not None and not isinstance(meta, dict):
                    errors.append({"message": "metadata must be a mapping"})
                elif meta and payload.get("repoType") == "dataset":
                    errors.extend({"message": m} for m in _dataset_metadata_errors(meta))
            except yaml.YAMLError as e:
                errors.append({"message": f"invalid YAML: {e}"})
        if errors:
            self._send(400, {"errors": errors, "warnings": []})
        else:
            self._send(200, {"errors": [], "warnings": []})
        return True

    def _preupload(self, rtype: str, repo_id: str, revision: str, payload: dict) -> bool:
        repo = self._repo_or_404(rtype, repo_id)
        if repo is None:
            return True
        if not self._authorized():
            self._error(401, "Invalid credentials")
            return True
        files = []
        for f in payload.get("files", []):
            have = repo.files.get(f["path"])
            files.append({"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                          "oid": git_blob_oid(have) if have is not None else None})
        self._send(200, {"files": files, "commitOid": repo.head})
        return True

    def _commit(self, rtype: str, repo_id: str, revision: str, body: bytes) -> bool:
        repo = self._repo_or_404(rtype, repo_id)
        if repo is None:
            return True
        if not self._authorized():
            self._error(401, "Invalid credentials")
            return True
        if revision not in ("main", repo.head):
            self._error(404, f"Revision not found: {revision}", "RevisionNotFound")
            return True
        header: dict = {}
        added: dict[str, bytes] = {}
        deleted: list[str] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item.get("key"), item.get("value", {})
            if key == "header":
                header = value
            elif key == "file":
                content = value.get("content", "")
                added[value["path"]] = base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
            elif key in ("deletedFile", "deletedFolder"):
                deleted.append(value["path"])
            else:
                self._error(400, f"fake hub: unsupported commit operation {key!r} (only inline files)")
                return True
        with self.hub.lock:
            parent = header.get("parentCommit")
            if parent and parent != repo.head:
                self._error(412, "A commit has happened since. Please refresh and try again.")
                return True
            files = dict(repo.files)
            for d in deleted:
                for p in [p for p in files if p == d or p.startswith(d.rstrip("/") + "/")]:
                    del files[p]
            files.update(added)
            oid = hashlib.sha1(f"{repo_id}\0{len(repo.commits)}\0{time.time_ns()}".encode()).hexdigest()
            commit = Commit(repo_id, rtype, oid, header.get("summary", ""), header.get("description", ""),
                            sorted(added), deleted, revision, files)
            repo.files = files
            repo.commits.append(commit)
            self.hub.commits.append(commit)
        prefix = "" if rtype == "model" else f"{rtype}s/"
        self._send(200, {"commitUrl": f"http://{self.headers.get('Host')}/{prefix}{repo_id}/commit/{oid}",
                         "commitOid": oid, "pullRequestUrl": None, "success": True})
        return True

    def _repo_info(self, rtype: str, repo_id: str, revision: str) -> bool:
        repo = self._repo_or_404(rtype, repo_id)
        if repo is None:
            return True
        snap = repo.snapshot(revision)
        if snap is None:
            self._error(404, f"Revision not found: {revision}", "RevisionNotFound")
            return True
        sha, files = snap
        info = {"id": repo_id, "modelId": repo_id, "sha": sha, "private": repo.private,
                "siblings": [{"rfilename": p} for p in sorted(files)], "tags": [], "downloads": 0, "likes": 0}
        if repo.space_sdk is not None:
            info["sdk"] = repo.space_sdk
        self._send(200, info)
        return True

    def _tree(self, rtype: str, repo_id: str, revision: str, sub: str, query: dict) -> bool:
        repo = self._repo_or_404(rtype, repo_id)
        if repo is None:
            return True
        snap = repo.snapshot(revision)
        if snap is None:
            self._error(404, f"Revision not found: {revision}", "RevisionNotFound")
            return True
        _, files = snap
        recursive = query.get("recursive", ["false"])[0].lower() in ("true", "1")
        prefix = sub.strip("/") + "/" if sub.strip("/") else ""
        entries, folders = [], set()
        for p in sorted(files):
            if not p.startswith(prefix):
                continue
            rel = p[len(prefix):]
            if "/" in rel:
                segs = rel.split("/")
                for k in range(1, len(segs) if recursive else 2):
                    folders.add(prefix + "/".join(segs[:k]))
                if not recursive:
                    continue
            entries.append({"type": "file", "path": p, "size": len(files[p]), "oid": git_blob_oid(files[p])})
        if prefix and not entries and not folders:
            self._error(404, f"Entry not found: {sub}", "EntryNotFound")
            return True
        out = [{"type": "directory", "path": f, "oid": hashlib.sha1(f.encode()).hexdigest(), "size": 0}
               for f in sorted(folders)] + entries
        self._send(200, out)
        return True

    def _resolve(self, rtype: str, repo_id: str, revision: str, path: str, head: bool) -> bool:
        repo = self._repo_or_404(rtype, repo_id, head=head)
        if repo is None:
            return True
        snap = repo.snapshot(revision)
        if snap is None:
            self._error(404, f"Revision not found: {revision}", "RevisionNotFound", head=head)
            return True
        sha, files = snap
        if path not in files:
            self._error(404, f"Entry not found: {path}", "EntryNotFound", head=head)
            return True
        content = files[path]
        self._send(200, raw=content, head=head, headers={
            "Content-Type": "application/octet-stream", "X-Repo-Commit": sha, "ETag": f'"{git_blob_oid(content)}"'})
        return True



def _dataset_metadata_errors(meta: dict) -> list[str]:
    """A few of the Hub's checks of a dataset card's ``configs`` and ``dataset_info`` (not all)."""
    errors = []
    configs = meta.get("configs")
    if configs is not None:
        names = [c.get("config_name") if isinstance(c, dict) else None for c in configs] if isinstance(configs, list) else None
        if names is None or not all(isinstance(n, str) and n for n in names):
            errors.append('"configs" must be a list of mappings with a "config_name"')
        elif len(set(names)) != len(names):
            errors.append('"configs": config names must be unique')
        elif not all(c.get("data_files") for c in configs):
            errors.append('"configs": every config needs "data_files"')
    info = meta.get("dataset_info")
    if info is not None:
        infos = info if isinstance(info, list) else [info]
        for i in infos:
            if not isinstance(i, dict):
                errors.append('"dataset_info" must be a mapping or a list of mappings')
                continue
            feats = i.get("features", [])
            if not isinstance(feats, list) or not all(isinstance(f, dict) and "name" in f for f in feats):
                errors.append('"dataset_info.features" must be a list of mappings with a "name"')
            for sp in i.get("splits", []) or []:
                if not (isinstance(sp, dict) and isinstance(sp.get("name"), str)
                        and isinstance(sp.get("num_examples", 0), int) and isinstance(sp.get("num_bytes", 0), int)):
                    errors.append('"dataset_info.splits" entries need a "name" and integer sizes')
        if isinstance(info, list) and len({i.get("config_name") for i in infos if isinstance(i, dict)}) != len(infos):
            errors.append('"dataset_info": config names must be unique')
    return errors

@pytest.fixture
def fake_hub():
    """A started :class:`FakeHub` (stopped after the test)."""
    hub = FakeHub().start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def fake_hub_env(fake_hub, monkeypatch) -> FakeHub:
    """The fake hub with this process's ``huggingface_hub`` pointed at it."""
    fake_hub.patch(monkeypatch)
    return fake_hub
