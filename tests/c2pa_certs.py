"""A C2PA signing chain made with openssl for tests: a root CA and an end-entity signer.

C2PA accepts an ES256 (P-256) end-entity certificate with the digitalSignature key usage and
an extended key usage such as emailProtection, issued by a CA (a self-signed signer is
refused). The key is written as OpenSSL writes it (SEC1 "EC PRIVATE KEY"); tolmach converts
it to the PKCS#8 that c2pa wants.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = tolmach test root CA
O = tolmach tests
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[signer]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
"""


@dataclass(frozen=True)
class Chain:
    ca: Path  # the root's certificate, to trust when reading
    chain: Path  # signer then root: c2pa_cert
    key: Path  # the signer's key: c2pa_key
    other_key: Path  # a P-256 key that belongs to no certificate here
    self_signed: Path  # a signer certificate that signs itself (refused by C2PA)


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_chain(d: Path) -> Chain:
    d.mkdir(parents=True, exist_ok=True)
    (d / "openssl.cnf").write_text(CONFIG)
    cnf = str(d / "openssl.cnf")
    for name in ("ca", "signer", "other"):
        _openssl(
            "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(d / f"{name}.key")
        )
    _openssl("req", "-x509", "-new", "-key", str(d / "ca.key"), "-sha256", "-days", "30",
             "-config", cnf, "-extensions", "ca", "-out", str(d / "ca.pem"))  # fmt: skip
    _openssl("req", "-new", "-key", str(d / "signer.key"), "-out", str(d / "signer.csr"),
             "-subj", "/CN=tolmach test signer/O=tolmach tests")  # fmt: skip
    _openssl("x509", "-req", "-in", str(d / "signer.csr"), "-CA", str(d / "ca.pem"),
             "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-sha256", "-days", "30",
             "-extfile", cnf, "-extensions", "signer", "-out", str(d / "signer.pem"))  # fmt: skip
    _openssl("req", "-x509", "-new", "-key", str(d / "signer.key"), "-sha256", "-days", "30",
             "-subj", "/CN=tolmach self-signed", "-out", str(d / "self.pem"))  # fmt: skip
    chain = d / "chain.pem"
    chain.write_text((d / "signer.pem").read_text() + (d / "ca.pem").read_text())
    return Chain(d / "ca.pem", chain, d / "signer.key", d / "other.key", d / "self.pem")


def read_manifest(path: Path, mime: str, trust: Path) -> tuple[dict, str]:  # type: ignore[type-arg]
    """The active manifest of ``path`` and its validation state, trusting the test root."""
    import c2pa

    ctx = c2pa.Context.from_dict({"trust": {"trust_anchors": trust.read_text()}})
    with path.open("rb") as f, c2pa.Reader(mime, f, context=ctx) as reader:
        return reader.get_active_manifest(), reader.get_validation_state()
