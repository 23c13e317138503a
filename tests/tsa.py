"""A real RFC 3161 timestamp authority for tests: `openssl ts -reply` behind a local HTTP server.

A throwaway CA and a TSA certificate (extended key usage timeStamping, critical) are made with
`openssl req/x509`; each POSTed TimeStampReq is answered by `openssl ts -reply`. ``mode`` makes
the server misbehave on purpose ("error": HTTP 500, "garbage": not a TimeStampResp).
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

TSA_CONF = """\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

TSA_EXT = """\
[ tsa_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
"""


def openssl(*args: str, cwd: Path | None = None, data: bytes | None = None) -> bytes:
    run = subprocess.run(
        ["openssl", *args], cwd=cwd, input=data, capture_output=True, timeout=60, check=False
    )
    if run.returncode:
        raise RuntimeError(f"openssl {args[0]} failed: {run.stderr.decode(errors='replace')}")
    return run.stdout


def make_tsa_files(d: Path) -> None:
    """ca.key/ca.pem (the trust anchor), tsa.key/tsa.pem (the signer), tsa.cnf, serial."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
        "-subj", "/CN=tolmach test TSA CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )  # fmt: skip
    openssl("req", "-new", *ec, "-keyout", "tsa.key", "-out", "tsa.csr",
            "-subj", "/CN=tolmach test TSA", cwd=d)  # fmt: skip
    (d / "ext.cnf").write_text(TSA_EXT)
    openssl(
        "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-set_serial", "2", "-days", "30", "-out", "tsa.pem",
        "-extfile", "ext.cnf", "-extensions", "tsa_ext",
        cwd=d,
    )  # fmt: skip
    (d / "tsa.cnf").write_text(TSA_CONF.format(dir=d))
    (d / "serial").write_text("01\n")


@dataclass
class LocalTSA:
    dir: Path
    url: str = ""
    mode: str = "ok"
    requests: list[bytes] = field(default_factory=list)

    @property
    def ca(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def cert(self) -> Path:
        return self.dir / "tsa.pem"

    def reply(self, query: bytes) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            q = Path(tmp) / "q.tsq"
            q.write_bytes(query)
            return openssl(
                "ts", "-reply", "-config", str(self.dir / "tsa.cnf"), "-queryfile", str(q),
                "-signer", str(self.cert), "-inkey", str(self.dir / "tsa.key"),
            )  # fmt: skip


def verify_token(tsa: LocalTSA, token: Path, digest_hex: str) -> subprocess.CompletedProcess[str]:
    """`openssl ts -verify` of a stored token against the test CA."""
    return subprocess.run(
        ["openssl", "ts", "-verify", "-digest", digest_hex, "-in", str(token), "-token_in",
         "-CAfile", str(tsa.ca), "-untrusted", str(tsa.cert)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _handler(tsa: LocalTSA) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            tsa.requests.append(body)
            if tsa.mode == "error":
                self.send_error(500, "TSA broken")
                return
            out = b"not a timestamp reply" if tsa.mode == "garbage" else tsa.reply(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="session", name="tsa_server")
def tsa_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    d = tmp_path_factory.mktemp("tsa")
    make_tsa_files(d)
    tsa = LocalTSA(d)
    server = HTTPServer(("127.0.0.1", 0), _handler(tsa))
    tsa.url = f"http://127.0.0.1:{server.server_address[1]}/tsr"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tsa
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture(name="tsa")
def tsa_fixture(tsa_server: LocalTSA) -> Iterator[LocalTSA]:
    """The session's authority, answering normally at the start of each test."""
    tsa_server.mode = "ok"
    tsa_server.requests.clear()
    yield tsa_server
    tsa_server.mode = "ok"
