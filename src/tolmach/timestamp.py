"""Trusted timestamps (RFC 3161): a timestamp authority signs the hash of a capture record.

The request's message imprint is the SHA-256 digest of the capture record's bytes (its name in
the blob store). The token (a CMS SignedData, DER) is kept in the blob store and described by a
``Timestamp`` row; it carries the authority's certificates (we ask for them), so it verifies
offline:

    openssl ts -verify -digest <record sha256> -in token.tsr -token_in \\
        -CAfile tsa-ca.pem -untrusted tsa-certs.pem

A timestamp authority that cannot be reached never loses a capture: the failure goes to the
custody log and ``tolmach stamp ITEM`` tries again later.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from asn1crypto import algos, cms, tsp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tolmach import custody
from tolmach.config import Settings
from tolmach.errors import ConfigError, EngineError, TolmachError
from tolmach.store import queries
from tolmach.store.blobs import BlobStore
from tolmach.store.tables import Capture, Timestamp

log = logging.getLogger(__name__)

QUERY_TYPE = "application/timestamp-query"


@dataclass(frozen=True)
class Token:
    """What a timestamp token says, once its imprint has been checked."""

    der: bytes  # the TimeStampToken (ContentInfo), as `openssl ts -token_in` reads it
    gen_time: datetime  # naive UTC
    digest_hex: str
    certs_pem: str  # the certificates the authority included, PEM


def request(digest: bytes, nonce: int) -> bytes:
    """A DER TimeStampReq over a SHA-256 digest, asking for the authority's certificates."""
    req = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    return bytes(req.dump())


def read_token(der: bytes) -> tuple[str, datetime, str]:
    """(imprint as hex, generation time as naive UTC, certificates as PEM) of a token."""
    info = cms.ContentInfo.load(der)
    signed = info["content"]
    tst = signed["encap_content_info"]["content"].parsed
    imprint = tst["message_imprint"]
    if imprint["hash_algorithm"]["algorithm"].native != "sha256":
        raise ValueError("the token's imprint is not a SHA-256 digest")
    gen: datetime = tst["gen_time"].native.astimezone(UTC).replace(tzinfo=None)
    pems = []
    for cert in signed["certificates"] or []:
        b64 = base64.b64encode(cert.chosen.dump()).decode()
        lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
        pems.append(f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n")
    return imprint["hashed_message"].native.hex(), gen, "".join(pems)


def parse_reply(body: bytes, digest: bytes, nonce: int) -> Token:
    """Check a TimeStampResp: granted, same nonce, imprint equal to ``digest``."""
    try:
        resp = tsp.TimeStampResp.load(body)
        status = resp["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = resp["status"]["status_string"].native or []
            raise EngineError(
                f"The timestamp authority refused the request: {status} {' '.join(text)}.",
                "Check tsa_url; the capture is kept and `tolmach stamp ITEM` retries.",
            )
        token = resp["time_stamp_token"]
        tst = token["content"]["encap_content_info"]["content"].parsed
        got_nonce = tst["nonce"].native
        der = bytes(token.dump())
        imprint_hex, gen, pems = read_token(der)
    except TolmachError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise EngineError(
            f"The timestamp authority's reply is not a valid RFC 3161 response ({exc}).",
            "Check tsa_url points at a timestamp authority.",
        ) from None
    if imprint_hex != digest.hex():
        raise EngineError(
            "The timestamp authority signed a different hash than the one sent.",
            "Do not trust this authority; check tsa_url.",
        )
    if got_nonce != nonce:
        raise EngineError("The timestamp reply does not answer our request (nonce differs).")
    return Token(der, gen, imprint_hex, pems)


def fetch(settings: Settings, digest: bytes) -> Token:
    """Ask the authority at ``settings.tsa_url`` for a token over ``digest``."""
    if not settings.tsa_url:
        raise ConfigError(
            "No timestamp authority is set.", "Set tsa_url in tolmach.toml or TOLMACH_TSA_URL."
        )
    nonce = secrets.randbits(63)
    try:
        resp = httpx.post(
            settings.tsa_url,
            content=request(digest, nonce),
            headers={"Content-Type": QUERY_TYPE},
            timeout=settings.tsa_timeout_s,
        )
        resp.raise_for_status()
    except httpx.HTTPError as exc:
        why = str(exc) or type(exc).__name__
        raise EngineError(
            f"The timestamp authority at {settings.tsa_url} failed: {why}.",
            "The capture is kept; run `tolmach stamp ITEM` when the authority is back.",
        ) from None
    return parse_reply(resp.content, digest, nonce)


def stamp(settings: Settings, blobs: BlobStore, session: Session, capture: Capture) -> Timestamp:
    """Timestamp one capture record: fetch, store the token, add a row and a custody entry.

    The request is made before anything is written in ``session``, so no database lock is held
    while the authority answers.
    """
    token = fetch(settings, bytes.fromhex(capture.record_sha256))
    token_sha, _ = blobs.put_bytes(token.der)
    row = Timestamp(
        capture_id=capture.id,
        stamped_sha256=token.digest_hex,
        tsa_url=settings.tsa_url,
        token_sha256=token_sha,
        gen_time=token.gen_time,
    )
    session.add(row)
    session.flush()
    custody.append(
        session,
        kind="timestamped",
        actor=settings.operator,
        item_id=capture.item_id,
        subject=settings.tsa_url,
        detail={
            "capture": capture.id,
            "stamped_sha256": token.digest_hex,
            "token_sha256": token_sha,
            "gen_time": custody.iso(token.gen_time),
        },
    )
    return row


def stamp_or_warn(
    db: sessionmaker[Session], blobs: BlobStore, settings: Settings, capture_id: int
) -> str:
    """Stamp a just-recorded capture; on failure log it in custody and return a warning."""
    try:
        with db.begin() as session:
            cap = session.get(Capture, capture_id)
            if cap is None:
                return ""
            stamp(settings, blobs, session, cap)
        return ""
    except TolmachError as exc:
        with db.begin() as session:
            cap = session.get(Capture, capture_id)
            custody.append(
                session,
                kind="timestamp-failed",
                actor=settings.operator,
                item_id=cap.item_id if cap else None,
                subject=settings.tsa_url,
                detail={"capture": capture_id, "error": exc.message},
            )
        warning = f"not timestamped: {exc.message} {exc.hint}".strip()
        log.info(warning)
        return warning


def stamp_item(
    db: sessionmaker[Session], blobs: BlobStore, settings: Settings, item_ref: str, again: bool
) -> list[Timestamp]:
    """Timestamp the captures of an item that have no token yet (every one with ``again``)."""
    with db() as session:
        item = queries.get_item(session, item_ref)
        caps = session.scalars(
            select(Capture).where(Capture.item_id == item.id).order_by(Capture.id)
        ).all()
        done = set(
            session.scalars(
                select(Timestamp.capture_id).where(Timestamp.capture_id.in_([c.id for c in caps]))
            )
        )
    todo = [c.id for c in caps if again or c.id not in done]
    made = []
    for cap_id in todo:
        with db.begin() as session:
            cap = session.get(Capture, cap_id)
            if cap is not None:
                made.append(stamp(settings, blobs, session, cap))
    return made
