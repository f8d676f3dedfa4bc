"""A TCP proxy in front of PostgreSQL that a test can cut: the database connection of a
real Vitrine process dropping mid-request, at a chosen statement.

Point a process's DATABASE_URL at `proxy.port`. `cut_at(b'UPDATE "registry_mlmodel"')`
drops the connection carrying the next statement that contains those bytes — before the
server sees it (`after=False`) or once the server has run it, with its answer withheld
(`after=True`: the statement happened inside a transaction that can now never commit).
`down()` drops every connection and refuses new ones until `up()`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class _Pair:
    client: socket.socket
    server: socket.socket
    severed: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        self.severed.set()
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class DatabaseProxy:
    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs: list[_Pair] = []
        self.pattern: bytes | None = None
        self.after = False
        self.refusing = False
        self.cuts: list[bytes] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True, name="db-proxy")
        self.thread.start()

    # What a test does ------------------------------------------------------------------

    def cut_at(self, pattern: bytes, *, after: bool = False) -> None:
        """Drop the connection that sends `pattern` next (once)."""
        with self.lock:
            self.pattern, self.after = pattern, after

    def down(self) -> None:
        with self.lock:
            self.refusing = True
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            pair.close()

    def up(self) -> None:
        with self.lock:
            self.refusing = False

    def close(self) -> None:
        self.stopped.set()
        self.down()
        with contextlib.suppress(OSError):
            self.listener.close()

    # The proxy -------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, server)
            with self.lock:
                self.pairs.append(pair)
            threading.Thread(target=self._upstream, args=(pair,), daemon=True).start()
            threading.Thread(target=self._downstream, args=(pair,), daemon=True).start()

    def _armed(self, data: bytes, tail: bytes) -> bool:
        with self.lock:
            if self.pattern is None or self.pattern not in tail + data:
                return False
            self.cuts.append(self.pattern)
            self.pattern = None
            return True

    def _upstream(self, pair: _Pair) -> None:
        """Client to server, watching for the statement to cut at."""
        tail = b""
        try:
            while data := pair.client.recv(65536):
                if self._armed(data, tail):
                    if self.after:
                        pair.severed.set()  # withhold the answer, however fast it comes
                        pair.server.sendall(data)
                        pair.answered.wait(timeout=10)  # the server has run it
                    pair.close()
                    return
                pair.server.sendall(data)
                tail = data[-256:]
        except OSError:
            pass
        pair.close()

    def _downstream(self, pair: _Pair) -> None:
        try:
            while data := pair.server.recv(65536):
                if pair.severed.is_set():
                    pair.answered.set()
                    break
                pair.client.sendall(data)
        except OSError:
            pass
        pair.close()


@contextlib.contextmanager
def database_proxy() -> Iterator[DatabaseProxy]:
    proxy = DatabaseProxy()
    try:
        yield proxy
    finally:
        proxy.close()
