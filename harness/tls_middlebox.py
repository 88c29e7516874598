"""A TLS-terminating middlebox in front of the (plain HTTP) simulator that can break one answer.

It stands where a load balancer or a TLS-intercepting proxy stands: it ends the client's TLS,
forwards each request to the simulator, and relays the answer. Told to, it forwards the first
create request (so the generation is made and billed) and then, instead of the answer, writes a
TLS record that cannot be decrypted: the client's TLS layer fails *after* its request was sent
(``SSLError: DECRYPTION_FAILED_OR_BAD_RECORD_MAC``), as when a middlebox corrupts or cuts a stream.
Told to, it instead answers the first client hello with that record: the handshake fails before
anything was sent, as a flaky handshake does.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
from typing import Any

import requests

CREATE_PATHS = ("/v2/generate/video/kling/generation", "/v2/video/generations")
#: A TLS 1.2/1.3 application-data record header and a body no key decrypts.
UNDECRYPTABLE_RECORD = b"\x17\x03\x03\x00\x20" + bytes(range(32))


class TlsMiddlebox:
    """Serve HTTPS on 127.0.0.1 (``url``), forwarding to ``upstream``.

    :param upstream: the simulator's base URL (plain HTTP).
    :param cert: the PEM certificate to serve; :param key: its key.
    :param break_first_create: answer the first create with an undecryptable TLS record.
    :param break_first_handshake: answer the first client hello with it (``broken_handshakes`` counts them).
    """

    def __init__(
        self,
        upstream: str,
        cert: str,
        key: str,
        *,
        break_first_create: bool = True,
        break_first_handshake: bool = False,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.break_next_create = break_first_create
        self.break_next_handshake = break_first_handshake
        self.broken_handshakes = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def __enter__(self) -> TlsMiddlebox:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.listener.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        if self.break_next_handshake:
            self.break_next_handshake = False
            with conn:
                conn.recv(65536)  # the client hello
                conn.sendall(UNDECRYPTABLE_RECORD)
                self.broken_handshakes += 1
            return
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                method, path, headers, body = _read_request(tls)
                answer = requests.request(
                    method,
                    self.upstream + path,
                    data=body,
                    headers={k: v for k, v in headers.items() if k.lower() not in ("host", "connection")},
                    timeout=30,
                )
                if method == "POST" and path.split("?")[0] in CREATE_PATHS and self.break_next_create:
                    self.break_next_create = False
                    with socket.socket(fileno=os.dup(tls.fileno())) as raw:  # beneath the TLS layer
                        raw.sendall(UNDECRYPTABLE_RECORD)
                    return
                tls.sendall(_response(answer))
        except (OSError, ValueError):
            return


def _read_request(tls: ssl.SSLSocket) -> tuple[str, str, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(65536)
        if not chunk:
            raise ValueError("the client closed before sending a request")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = dict(line.split(": ", 1) for line in lines if ": " in line)
    length = int(headers.get("Content-Length") or headers.get("content-length") or 0)
    while len(body) < length:
        body += tls.recv(65536)
    return method, path, headers, body


def _response(answer: requests.Response) -> bytes:
    kept = {k: v for k, v in answer.headers.items() if k.lower().startswith(("content-type", "x-", "retry-after"))}
    head = [f"HTTP/1.1 {answer.status_code} {answer.reason}", *(f"{k}: {v}" for k, v in kept.items())]
    head += [f"Content-Length: {len(answer.content)}", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + answer.content
