"""A live HTTPS server running the app in a thread, for tests that go over real HTTP (and the browser).

HTTPS because the tool's cookies are ``Secure``: clients (requests, Chromium) only send them over TLS.
The certificate is the development one (``cli.write_dev_certificate``) for localhost and 127.0.0.1.
"""
from __future__ import annotations

import socket
import ssl
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class LiveServer:
    app: Flask
    url: str          # https://localhost:PORT (the tool's public base)
    port: int
    cert_path: Path   # pass to requests as verify=
    server: BaseWSGIServer

    def alt_url(self) -> str:
        """The same server under another site name (127.0.0.1): a cross-site origin for iframe tests."""
        return f"https://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(app: Flask, port: int, cert_dir: Path) -> LiveServer:
    from lti_tool.cli import write_dev_certificate

    cert, key = write_dev_certificate(cert_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = make_server("127.0.0.1", port, app, threaded=True, ssl_context=context)
    # serve_forever checks for shutdown every poll_interval (0.5 s by default): each stop would wait that long.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"live-{port}",
                              daemon=True)
    thread.start()
    return LiveServer(app=app, url=f"https://localhost:{port}", port=port, cert_path=cert, server=server)


@contextmanager
def serving(app: Flask, port: int, cert_dir: Path) -> Iterator[LiveServer]:
    """``start``, and stop the server (at once) when the block ends."""
    server = start(app, port, cert_dir)
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
