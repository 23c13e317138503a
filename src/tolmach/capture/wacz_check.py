"""Check a WACZ package: safe member names, datapackage.json hashes, the WARCs, the pages.

Both datapackage layouts in use are read: WACZ 1.1 (``"hash": "sha256:..."`` and ``bytes`` on
each resource) and the older 1.0 (``stats.hash``, ``stats.bytes`` and ``hashing``). Nothing is
extracted to disk; members are read from the zip as streams.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import zipfile
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509

from tolmach.capture.reader import CHUNK, Report, check_records, guard_members
from tolmach.errors import InputError

TRUST_STORE = Path("/etc/ssl/certs/ca-certificates.crt")
HASHES = {"sha256", "sha1", "md5", "sha512"}


def check_wacz(path: Path) -> Report:
    """Check the WACZ at ``path``; InputError for an unsafe or unreadable package."""
    report = Report(path, "wacz")
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path.name} is not a readable zip file ({exc}).", "") from None
    with z:
        names = z.namelist()
        guard_members(names, path)
        report.files = len(names)
        if "datapackage.json" not in names:
            report.problems.append("no datapackage.json: this is not a WACZ package")
            return report
        try:
            package = json.loads(z.read("datapackage.json"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            report.problems.append(f"datapackage.json is not JSON ({exc})")
            return report
        _check_resources(z, package, names, report)
        _check_digest(z, names, report)
        for name in names:
            if name.startswith("archive/") and name.endswith((".warc", ".warc.gz", ".arc.gz")):
                with z.open(name) as fh:
                    check_records(fh, report, name)
        for name in names:
            if name.startswith("pages/") and name.endswith(".jsonl"):
                report.pages += _count_pages(z, name, report)
        if not any(n.startswith("archive/") for n in names):
            report.problems.append("no archive/ folder: the package holds no WARC")
    return report


def _spec(resource: dict[str, Any]) -> tuple[str, str, int | None]:
    """(hash name, hex digest, size) of a resource in either datapackage layout."""
    if "stats" in resource:  # WACZ 1.0
        stats = resource.get("stats") or {}
        return str(resource.get("hashing", "")), str(stats.get("hash", "")), stats.get("bytes")
    algo, _, digest = str(resource.get("hash", "")).partition(":")
    return algo, digest, resource.get("bytes")


def _check_resources(
    z: zipfile.ZipFile, package: dict[str, Any], names: list[str], report: Report
) -> None:
    resources = package.get("resources") or []
    if not resources:
        report.problems.append("datapackage.json lists no resources")
    version = package.get("wacz_version", "?")
    if version == "1.0.0":
        report.notes.append("WACZ 1.0.0 (an older layout; current tools may call it outdated)")
    for res in resources:
        member = str(res.get("path", ""))
        algo, digest, size = _spec(res)
        if member not in names:
            report.problems.append(f"{member}: listed in datapackage.json but not in the package")
            continue
        if algo not in HASHES:
            report.problems.append(f"{member}: unknown hash type {algo!r}")
            continue
        h = hashlib.new(algo)
        got = 0
        with z.open(member) as fh:
            while block := fh.read(CHUNK):
                h.update(block)
                got += len(block)
        if h.hexdigest() != digest:
            report.problems.append(f"{member}: {algo} does not match datapackage.json (changed)")
        if size is not None and size != got:
            report.problems.append(f"{member}: {got} bytes, datapackage.json says {size}")


def _check_digest(z: zipfile.ZipFile, names: list[str], report: Report) -> None:
    if "datapackage-digest.json" not in names:
        return
    try:
        digest = json.loads(z.read("datapackage-digest.json"))
    except json.JSONDecodeError:
        report.problems.append("datapackage-digest.json is not JSON")
        return
    algo, _, want = str(digest.get("hash", "")).partition(":")
    if algo in HASHES and hashlib.new(algo, z.read("datapackage.json")).hexdigest() != want:
        report.problems.append("datapackage.json does not match datapackage-digest.json")
    signed = digest.get("signedData")
    if isinstance(signed, dict):
        _check_signer(signed, report)


def _check_signer(signed: dict[str, Any], report: Report) -> None:
    """Whether the signing certificate chains to a root this machine trusts."""
    chain = [x509.Certificate.load(der) for _, _, der in pem.unarmor(
        str(signed.get("domainCert", "")).encode(), multiple=True
    )]  # fmt: skip
    if not chain:
        report.problems.append("signed, but the signing certificate is missing")
        return
    if not TRUST_STORE.is_file():
        report.notes.append(f"signed by {signed.get('domain')}; no trust store to check it")
        return
    trusted = {
        (c.subject.dump(), c.public_key.dump())
        for _, _, der in pem.unarmor(TRUST_STORE.read_bytes(), multiple=True)
        for c in [x509.Certificate.load(der)]
    }
    for cert, issuer in itertools.pairwise(chain):
        if cert.issuer.dump() != issuer.subject.dump():
            report.problems.append("signed, but the certificate chain is out of order")
            return
    if any((c.subject.dump(), c.public_key.dump()) in trusted for c in chain) or any(
        c.issuer.dump() in {s for s, _ in trusted} for c in chain[-1:]
    ):
        report.notes.append(
            f"signed by {signed.get('domain')}; its certificate chains to a trusted root "
            "(signature bytes not verified here)"
        )
        return
    top = chain[-1].issuer.human_friendly
    report.problems.append(
        f"signed by {signed.get('domain')}, but its certificate chain ends at {top!r}, "
        "which is not a trusted root (a test or staging certificate?)"
    )


def _count_pages(z: zipfile.ZipFile, name: str, report: Report) -> int:
    count = 0
    for n, line in enumerate(z.read(name).decode("utf-8", "replace").splitlines()):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            report.problems.append(f"{name}: line {n + 1} is not JSON")
            continue
        if isinstance(entry, dict) and "url" in entry:
            count += 1
    return count
