"""Heroku Git for the emulator: real bare repositories built from the fixture with ``git fast-import``,
served over smart HTTP by ``git http-backend`` run as a CGI program. Read-only: pushes are refused."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from typing import Optional

from tests.emulators._server import Request, Response
from tests.emulators.heroku_fixture import EPOCH, FixtureError, parse_time

DEFAULT_AUTHOR = "Ada Lovelace <ada@example.com>"
# http-backend enables receive-pack for authenticated users; Heroku Git here is a read-only source.
READ_ONLY = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.receivepack", "GIT_CONFIG_VALUE_0": "false"}


def _git(*args: str, cwd: str, stdin: bytes = b"") -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True).stdout


class HerokuGit:
    def __init__(self, root: str):
        self.root = root
        self.described: set = set()
        self._revs: dict = {}

    def path(self, app: str) -> str:
        return os.path.join(self.root, f"{app}.git")

    def build(self, apps: list) -> None:
        """One bare repository per app whose fixture has a ``repo``; the others get an empty one on first use."""
        for spec in apps:
            if spec.get("repo"):
                self._create(spec["name"], spec["repo"].get("branch", "main"))
                _git(
                    "fast-import", "--quiet", "--date-format=raw", cwd=self.path(spec["name"]), stdin=self._stream(spec)
                )
                self.described.add(spec["name"])

    def _create(self, app: str, branch: str) -> None:
        if not os.path.isdir(self.path(app)):
            subprocess.run(
                ["git", "init", "--quiet", "--bare", f"--initial-branch={branch}", self.path(app)], check=True
            )

    @staticmethod
    def _stream(spec: dict) -> bytes:
        repo = spec["repo"]
        out = []
        for n, commit in enumerate(repo["commits"], 1):
            when = (
                int(parse_time(commit["date"]).timestamp())
                if commit.get("date")
                else int((EPOCH + dt.timedelta(days=n)).timestamp())
            )
            who = commit.get("author", DEFAULT_AUTHOR)
            message = commit["message"].encode()
            out += [
                f"commit refs/heads/{repo.get('branch', 'main')}".encode(),
                f"mark :{n}".encode(),
                f"author {who} {when} +0000".encode(),
                f"committer {who} {when} +0000".encode(),
                b"data %d" % len(message),
                message,
            ]
            if n > 1:
                out.append(f"from :{n - 1}".encode())
            for path, content in (commit.get("files") or {}).items():
                if content is None:
                    out.append(f"D {path}".encode())
                    continue
                if not isinstance(content, str):
                    raise FixtureError(f"{spec['name']}: file {path} must be a string")
                data = content.encode()
                out += [f"M 100644 inline {path}".encode(), b"data %d" % len(data), data]
        return b"\n".join(out) + b"\n"

    def commit_of(self, app: str, rev: str) -> Optional[str]:
        """The commit ``rev`` (``HEAD``, ``HEAD~1``, a sha...) names in the app's fixture repository, or None."""
        if app not in self.described:
            return None
        if (app, rev) not in self._revs:
            try:
                self._revs[app, rev] = (
                    _git("rev-parse", "--verify", f"{rev}^{{commit}}", cwd=self.path(app)).decode().strip()
                )
            except subprocess.CalledProcessError:
                raise FixtureError(f"{app}: {rev!r} is not a commit of its repo") from None
        return self._revs[app, rev]

    def size(self, app: str) -> Optional[int]:
        if app not in self.described:
            return None
        return sum(os.path.getsize(os.path.join(d, f)) for d, _dirs, files in os.walk(self.path(app)) for f in files)

    def serve(self, req: Request, app: str) -> Response:
        """Run ``git http-backend`` for one smart-HTTP request and turn its CGI output into a Response."""
        self._create(app, "main")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": req.path.removeprefix("/git"),
            "REQUEST_METHOD": req.method,
            "QUERY_STRING": req.raw_query,
            "CONTENT_TYPE": req.headers.get("content-type", ""),
            "CONTENT_LENGTH": str(len(req.body)),
            "REMOTE_USER": "heroku",
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": req.headers.get("git-protocol", ""),
            "HTTP_CONTENT_ENCODING": req.headers.get("content-encoding", ""),
            **READ_ONLY,
        }
        out = subprocess.run(["git", "http-backend"], env=env, input=req.body, capture_output=True, check=False).stdout
        head, body = out.partition(b"\r\n\r\n" if b"\r\n\r\n" in out else b"\n\n")[::2]
        status, headers = 200, {}
        for line in head.decode("latin-1").splitlines():
            key, value = line.partition(":")[::2]
            if key.lower() == "status":
                status = int(value.split()[0])
            else:
                headers[key.strip()] = value.strip()
        content_type = headers.pop("Content-Type", "text/plain")
        return Response(status, raw=body, headers=headers, content_type=content_type)
