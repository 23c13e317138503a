"""C2PA manifests for AI voices: what was made by a machine, from what, signed by whom.

A voice-over clip's manifest records three actions: ``c2pa.opened`` on the original (an
ingredient whose ``instance_id`` is ``sha256:<the original's hash>``, repeated in an
``org.tolmach.source`` assertion), ``c2pa.translated`` (machine translation, source language
to English) and ``c2pa.edited`` (the English voice-over), the last two with the IPTC digital
source type ``trainedAlgorithmicMedia`` and the engine as software agent. A narration's
records one ``c2pa.created`` action of the same type and the story text's hash.

Signing needs ``c2pa_cert`` (PEM chain, signer first, issued by a CA, not self-signed: an
end-entity cert with the digitalSignature key usage and the emailProtection or documentSigning
extended key usage) and ``c2pa_key`` (its P-256 key; ES256). The pair is checked before any
work is done (``check_signer``), so a key that does not match its certificate is one clear
error and nothing is written. With neither set the file is still disclosed (spoken, on
screen, in its tags) and carries no manifest; ``Signed.warning`` says so.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tolmach import __version__
from tolmach.config import Settings
from tolmach.errors import ConfigError

AI_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
UNSIGNED = (
    "the C2PA manifest was not signed: c2pa_cert and c2pa_key are not set. The AI voice is "
    "still disclosed (spoken, on screen, in the file's tags); set both to sign (docs/voice.md)."
)


@dataclass(frozen=True)
class Signer:
    chain: bytes  # PEM, signer first
    key: bytes  # PKCS#8 PEM
    name: str  # the signer certificate's subject
    tsa_url: str


@dataclass(frozen=True)
class Signed:
    """The file written and whether it carries a signed manifest."""

    path: Path
    signed: bool
    signer: str = ""
    warning: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"signed": self.signed, "signer": self.signer, "warning": self.warning}


def check_signer(settings: Settings) -> Signer | None:
    """The signing pair from the settings, checked; None when neither is set."""
    cert_path, key_path = settings.c2pa_cert, settings.c2pa_key
    if cert_path is None and key_path is None:
        return None
    if cert_path is None or key_path is None:
        raise ConfigError(
            "Only one of c2pa_cert and c2pa_key is set.", "Set both, or neither (no manifest)."
        )
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    for path in (cert_path, key_path):
        if not path.is_file():
            raise ConfigError(f"The C2PA file {path} does not exist.", "Check c2pa_cert/c2pa_key.")
    try:
        certs = x509.load_pem_x509_certificates(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except ValueError as exc:
        raise ConfigError(
            f"c2pa_cert or c2pa_key is not PEM that can be read ({exc}).",
            "Give a PEM certificate chain and an unencrypted PEM private key.",
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError(f"{key_path} is not a P-256 key.", "C2PA signing here uses ES256.")
    if certs[0].public_key() != key.public_key():
        raise ConfigError(
            f"The key {key_path} does not match the certificate {cert_path}.",
            "Give the private key of the first certificate in c2pa_cert.",
        )
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    subject = certs[0].subject.rfc4514_string()
    return Signer(cert_path.read_bytes(), pkcs8, subject, settings.c2pa_tsa_url)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def agent(name: str) -> dict[str, str]:
    return {"name": name}


def voice_over_manifest(
    original: Path,
    original_name: str,
    voice: str,
    mt: str,
    source_language: str,
    note: str = "machine translation",
) -> dict[str, Any]:
    """The manifest definition of a voice-over clip made from ``original``."""
    sha = sha256_of(original)
    return _manifest(
        "english-voice.mp4",
        "video/mp4",
        [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}},
            {
                "action": "c2pa.translated",
                "description": f"English by {note}",
                "digitalSourceType": AI_MEDIA,
                "softwareAgent": agent(mt),
                "parameters": {"sourceLanguage": source_language, "targetLanguage": "en"},
            },
            {
                "action": "c2pa.edited",
                "description": "English voice-over by an AI voice, mixed over the original",
                "digitalSourceType": AI_MEDIA,
                "softwareAgent": agent(voice),
            },
        ],
        sha,
        ingredients=[
            {
                "title": original_name,
                "format": "application/octet-stream",
                "relationship": "parentOf",
                "label": "original",
                "instance_id": f"sha256:{sha}",
            }
        ],
    )


def narration_manifest(story: Path, title: str, voice: str) -> dict[str, Any]:
    """The manifest definition of a story read aloud."""
    action = {
        "action": "c2pa.created",
        "description": "A written story read aloud by an AI voice",
        "digitalSourceType": AI_MEDIA,
        "softwareAgent": agent(voice),
    }
    return _manifest(title, "audio/mp4", [action], sha256_of(story))


def sign(definition: dict[str, Any], signer: Signer, source: Path, dest: Path, mime: str) -> None:
    """``source`` with the signed manifest, written to ``dest`` whole or not at all."""
    import c2pa

    partial = dest.with_name(f".{dest.name}.partial")
    try:
        native = c2pa.Signer.from_info(
            c2pa.C2paSignerInfo(
                c2pa.C2paSigningAlg.ES256, signer.chain, signer.key, signer.tsa_url or None
            )
        )
        with (
            c2pa.Builder(definition) as builder,
            source.open("rb") as src,
            partial.open("w+b") as out,
        ):
            builder.sign(native, mime, src, out)
        os.replace(partial, dest)
    except c2pa.C2paError as exc:
        raise ConfigError(
            f"The C2PA manifest could not be signed: {exc}.",
            "Check c2pa_cert (an end-entity certificate issued by a CA, with digitalSignature "
            "and emailProtection or documentSigning) and c2pa_key.",
        ) from None
    finally:
        partial.unlink(missing_ok=True)


def _manifest(
    title: str,
    mime: str,
    actions: list[dict[str, Any]],
    source_sha: str,
    ingredients: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": "tolmach", "version": __version__}],
        "title": title,
        "format": mime,
        "ingredients": ingredients or [],
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {"label": "org.tolmach.source", "data": {"sha256": source_sha}},
        ],
    }
