"""`vitrine`: publish Cog models to a Vitrine server from the command line.

    vitrine push owner/name [DIR]              pack DIR (default .), upload, follow the build
    vitrine push owner/name --url http://h:5000  register a running Cog server

The token comes from VITRINE_API_TOKEN (or REPLICATE_API_TOKEN), the server from
VITRINE_URL (default http://127.0.0.1:8000). Exit status is 0 only when a version was
published. This module needs neither Django nor a database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import httpx

from registry import archives

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class CliError(Exception):
    pass


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:500]}"
    detail = body.get("detail") if isinstance(body, dict) else None
    return f"HTTP {response.status_code}: {detail or body}"


class Progress:
    """Build logs as they come, with a spinner line on a terminal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.started = time.monotonic()
        self.tick = 0
        self.status = "starting"

    def _clear(self) -> None:
        if self.tty:
            self.out.write("\r\033[K")

    def line(self, text: str) -> None:
        self._clear()
        self.out.write(text + "\n")
        self.draw()

    def draw(self) -> None:
        if not self.tty:
            return
        self.tick += 1
        elapsed = time.monotonic() - self.started
        frame = SPINNER[self.tick % len(SPINNER)]
        self.out.write(f"\r{frame} build {self.status} · {elapsed:5.1f}s")
        self.out.flush()

    def done(self) -> None:
        self._clear()
        self.out.flush()


class Client:
    def __init__(self, server: str, token: str) -> None:
        self.server = server.rstrip("/")
        self.http = httpx.Client(
            base_url=self.server,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "vitrine-cli/1"},
            timeout=httpx.Timeout(60.0, connect=10.0),
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.HTTPError as e:
            raise CliError(f"Cannot reach {self.server}: {e}") from e

    def ensure_model(self, owner: str, name: str, *, create: bool, visibility: str) -> None:
        response = self.request("GET", f"/v1/models/{owner}/{name}")
        if response.status_code == 200:
            return
        if response.status_code == 404 and create:
            created = self.request(
                "POST",
                "/v1/models",
                json={"owner": owner, "name": name, "visibility": visibility, "hardware": "cpu"},
            )
            if created.status_code != 201:
                raise CliError(f"Could not create {owner}/{name}: {_problem(created)}")
            return
        if response.status_code == 404:
            raise CliError(f"{owner}/{name} does not exist (use --create to make it).")
        raise CliError(_problem(response))

    def push_archive(self, owner: str, name: str, archive: bytes) -> dict[str, Any]:
        response = self.request(
            "POST",
            f"/v1/models/{owner}/{name}/versions",
            files={"source": ("project.tar.gz", archive, "application/gzip")},
        )
        if response.status_code != 202:
            raise CliError(f"Upload refused: {_problem(response)}")
        body: dict[str, Any] = response.json()
        return body

    def push_urls(self, owner: str, name: str, urls: list[str]) -> dict[str, Any]:
        response = self.request(
            "POST", f"/v1/models/{owner}/{name}/versions", json={"cog_urls": urls}
        )
        if response.status_code != 202:
            raise CliError(f"Registration refused: {_problem(response)}")
        body: dict[str, Any] = response.json()
        return body

    def follow(self, build: dict[str, Any], progress: Progress) -> dict[str, Any]:
        """Print the build's logs as they happen (server-sent events), then its outcome."""
        path = f"/v1/builds/{build['id']}/stream"
        try:
            with self.http.stream("GET", path, timeout=httpx.Timeout(None, connect=10.0)) as stream:
                if stream.status_code != 200:
                    raise CliError(_problem(stream))
                event = ""
                for raw in stream.iter_lines():
                    if raw.startswith("event:"):
                        event = raw[6:].strip()
                        progress.status = "running" if event == "logs" else progress.status
                    elif raw.startswith("data:") and event == "logs":
                        progress.line(raw[5:].removeprefix(" "))
                    elif raw.startswith(":"):
                        progress.draw()
                    if event == "done" and raw == "":
                        break
        except httpx.HTTPError as e:
            raise CliError(f"Lost the build's log stream: {e}") from e
        final = self.request("GET", f"/v1/builds/{build['id']}")
        if final.status_code != 200:
            raise CliError(_problem(final))
        body: dict[str, Any] = final.json()
        return body


def _push(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    owner, slash, name = args.model.partition("/")
    if not slash or not owner or not name:
        raise CliError("The model must be given as owner/name.")
    token = os.environ.get("VITRINE_API_TOKEN") or os.environ.get("REPLICATE_API_TOKEN")
    if not token:
        raise CliError("Set VITRINE_API_TOKEN (or REPLICATE_API_TOKEN) to an API token.")
    server = (args.server or os.environ.get("VITRINE_URL") or "http://127.0.0.1:8000").rstrip("/")
    client = Client(server, token)
    client.ensure_model(owner, name, create=args.create, visibility=args.visibility)
    progress = Progress(out)
    if args.url:
        out.write(f"Registering {', '.join(args.url)} as a new version of {owner}/{name}\n")
        build = client.push_urls(owner, name, args.url)
    else:
        root = Path(args.directory).resolve()
        if not (root / "cog.yaml").is_file():
            raise CliError(f"{root} has no cog.yaml.")
        archive = archives.pack(root)
        out.write(f"Uploading {root} ({len(archive) / 1024:.0f} KiB) to {server}\n")
        build = client.push_archive(owner, name, archive)
    out.write(f"Build {build['id']} queued\n")
    final = client.follow(build, progress)
    progress.done()
    if final["status"] != "succeeded":
        err.write(f"Build failed: {final.get('error') or final['status']}\n")
        return 1
    version = final["version"]
    out.write(f"Published {owner}/{name}:{version}\n")
    out.write(f"{server}/{owner}/{name}/versions/{version}\n")
    if args.json:
        out.write(json.dumps(final) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vitrine", description="Publish Cog models to Vitrine.")
    commands = parser.add_subparsers(dest="command", required=True)
    push = commands.add_parser("push", help="Publish a new version of a model.")
    push.add_argument("model", help="owner/name")
    push.add_argument("directory", nargs="?", default=".", help="The Cog project (default: .)")
    push.add_argument(
        "--url", action="append", help="Register a running Cog server instead (repeatable)."
    )
    push.add_argument("--server", help="Vitrine's URL (default: $VITRINE_URL).")
    push.add_argument("--create", action="store_true", help="Create the model if it is missing.")
    push.add_argument("--visibility", choices=["public", "private"], default="public")
    push.add_argument("--json", action="store_true", help="Also print the final build as JSON.")
    return parser


def main(
    argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    args = build_parser().parse_args(argv)
    stream = out or sys.stdout
    errors = err or sys.stderr  # so that `vitrine push … > log` still shows why it stopped
    try:
        return _push(args, stream, errors)
    except CliError as e:
        errors.write(f"vitrine: {e}\n")
        return 2
    except KeyboardInterrupt:
        errors.write("\nvitrine: interrupted (the build goes on on the server)\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
