"""Check an evidence bundle offline: every file against the manifest, the custody chain, and
each timestamp token (its imprint, and its signature with openssl when openssl is installed).

A bundle is read in place; nothing is unpacked except the tokens and certificates that openssl
needs, under fixed names in a temporary folder. A zip with a member that could escape a folder
(``../``, an absolute path, a symlink) is refused as a whole.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509

from tolmach import custody, timestamp
from tolmach.errors import InputError


@dataclass
class BundleReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    entries: int = 0
    tokens: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": {
                "files": self.files,
                "custody_entries": self.entries,
                "tokens": self.tokens,
            },
            "problems": self.problems,
            "notes": self.notes,
        }


def _unsafe(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in re.split(r"[\\/]", name):
        return "climbs out of its folder (..)"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    return ""


def _open(path: Path) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path} is not a readable zip file ({exc}).") from None
    for info in zf.infolist():
        why = _unsafe(info)
        if why:
            zf.close()
            raise InputError(
                f"{path.name} is not a safe bundle: member {info.filename!r} {why}.",
                "Do not unpack it; ask for the bundle again from its source.",
            )
    return zf


def _sha(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with zf.open(name) as f:
        while block := f.read(4 * 1024 * 1024):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def verify_bundle(path: Path, ca: Path | None = None) -> BundleReport:
    """Check the bundle at ``path``; ``ca`` is a trusted CA certificate of the authority."""
    report = BundleReport()
    with _open(path) as zf:
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        if "manifest.json" not in names:
            raise InputError(f"{path.name} has no manifest.json: it is not an evidence bundle.")
        try:
            manifest = json.loads(zf.read("manifest.json"))
            listed = {str(f["name"]): f for f in manifest["files"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path.name}'s manifest.json is unreadable ({exc}).") from None
        for dup in sorted({n for n in names if names.count(n) > 1}):
            report.problems.append(f"{dup} appears more than once in the zip")
        for name in sorted(set(names) - set(listed) - {"manifest.json"}):
            report.problems.append(f"{name} is in the zip but not in the manifest")
        good: dict[str, str] = {}  # name -> sha256 of the members that match the manifest
        for name, f in sorted(listed.items()):
            if name not in names:
                report.problems.append(f"{name} is in the manifest but missing from the zip")
                continue
            sha, size = _sha(zf, name)
            report.files += 1
            if (sha, size) != (f.get("sha256"), f.get("size")):
                report.problems.append(f"{name} was changed: its sha256 is not the manifest's")
            else:
                good[name] = sha
        if "custody.jsonl" in good:
            _check_custody(zf, manifest, report)
        with tempfile.TemporaryDirectory(prefix="tolmach-bundle-") as tmp:
            for cap in manifest.get("captures", []):
                _check_capture(zf, cap, good, Path(tmp), ca, report)
    return report


def _check_custody(zf: zipfile.ZipFile, manifest: dict[str, Any], report: BundleReport) -> None:
    try:
        entries = [json.loads(line) for line in zf.read("custody.jsonl").splitlines() if line]
    except ValueError:
        report.problems.append("custody.jsonl is not valid JSON lines")
        return
    report.entries = len(entries)
    item = manifest.get("item_id")
    for e in entries:
        if e.get("item_id") != item:
            report.problems.append(f"custody entry {e.get('id')} is not about item {item}")
    try:
        problems = custody.check_chain(entries, whole=False)
    except KeyError as exc:
        report.problems.append(f"a custody entry lacks the field {exc}")
        return
    report.problems.extend(str(p) for p in problems)
    logged = {
        e["detail"]["capture"]: e["detail"]
        for e in entries
        if e.get("kind") == "captured"
        and isinstance(e.get("detail"), dict)
        and "capture" in e["detail"]
    }
    for cap in manifest.get("captures", []):
        detail = logged.get(cap.get("id"))
        if detail is None:
            report.problems.append(f"capture {cap.get('id')} has no 'captured' custody entry")
        elif detail.get("record_sha256", cap.get("record_sha256")) != cap.get("record_sha256"):
            report.problems.append(f"capture {cap.get('id')}'s record is not the one logged")


def _check_capture(
    zf: zipfile.ZipFile,
    cap: dict[str, Any],
    good: dict[str, str],
    tmp: Path,
    ca: Path | None,
    report: BundleReport,
) -> None:
    record_sha = str(cap.get("record_sha256", ""))
    record = str(cap.get("record", ""))
    if record in good and good[record] != record_sha:
        report.problems.append(f"{record} is not the capture record the manifest names")
    elif record in good:
        _check_record_files(zf.read(record), cap, set(good.values()), report)
    for st in cap.get("timestamps", []):
        token_name = str(st.get("token", ""))
        if token_name not in good:
            continue  # already reported as missing or changed
        der = zf.read(token_name)
        report.tokens += 1
        try:
            imprint, _, _ = timestamp.read_token(der)
        except (ValueError, TypeError, KeyError) as exc:
            report.problems.append(f"{token_name} is not a timestamp token ({exc})")
            continue
        if imprint != record_sha:
            report.problems.append(f"{token_name} is over another hash than the capture record")
            continue
        certs_name = str(st.get("certs", ""))
        certs = zf.read(certs_name) if certs_name in good else b""
        _openssl_verify(token_name, der, certs, record_sha, tmp, ca, report)


def _check_record_files(
    data: bytes, cap: dict[str, Any], have: set[str], report: BundleReport
) -> None:
    """The files a (timestamped) capture record lists must be in the bundle, unchanged."""
    try:
        listed = json.loads(data).get("files", [])
    except (ValueError, AttributeError):
        report.problems.append(f"capture {cap.get('id')}'s record is not JSON")
        return
    for f in listed if isinstance(listed, list) else []:
        if isinstance(f, dict) and f.get("sha256") not in have:
            report.problems.append(
                f"capture {cap.get('id')}'s record lists {f.get('name')!r}, which is not in "
                "the bundle with that sha256"
            )


def _openssl_verify(
    name: str, der: bytes, certs: bytes, digest: str, tmp: Path, ca: Path | None, r: BundleReport
) -> None:
    if shutil.which("openssl") is None:
        r.notes.append(f"{name}: signature not checked (openssl is not installed)")
        return
    anchors: list[bytes] = []
    others: list[bytes] = []
    for _, _, body in pem.unarmor(certs, multiple=True):
        cert = x509.Certificate.load(body)
        (anchors if cert.self_signed != "no" else others).append(pem.armor("CERTIFICATE", body))
    if ca is None and not anchors:
        r.notes.append(f"{name}: signature not checked (no CA certificate; give --ca)")
        return
    (tmp / "token.tsr").write_bytes(der)
    (tmp / "untrusted.pem").write_bytes(b"".join(others) or certs)
    cafile = ca if ca is not None else tmp / "ca.pem"
    if ca is None:
        cafile.write_bytes(b"".join(anchors))
    args = ["openssl", "ts", "-verify", "-digest", digest, "-in", str(tmp / "token.tsr")]
    args += ["-token_in", "-CAfile", str(cafile), "-untrusted", str(tmp / "untrusted.pem")]
    run = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if run.returncode != 0:
        why = (run.stderr.strip().splitlines() or ["failed"])[-1]
        r.problems.append(f"{name}: the timestamp signature does not verify ({why})")
    elif ca is None:
        fp = hashlib.sha256(pem.unarmor(b"".join(anchors))[2]).hexdigest()
        r.notes.append(
            f"{name}: signature verified against the CA certificate inside the bundle "
            f"(sha256 {fp}); compare it with the authority's published certificate"
        )
