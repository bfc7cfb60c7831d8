"""Model folders written without pickle and read without running code.

A component (the estimator, a bagged model, an ensemble strategy) describes itself as a *state*:
a tree of JSON values, numpy arrays and ``Blob``s (a library's own model file: LightGBM text,
XGBoost UBJSON, CatBoost ``.cbm``). ``write_state`` stores a state as ``NAME.json`` (the tree,
with arrays and blobs replaced by references), ``NAME.npz`` (the arrays, no object arrays) and
one file per blob; ``read_state`` gives the tree back using ``np.load(allow_pickle=False)`` and
the libraries' own loaders only. Each component rebuilds itself from its state
(``from_state``) and knows which classes its children are, so a folder names no import path
and can make nothing but those classes.

A model folder (``AutoMLClassifier.save`` / ``automl.load``, on ``write_state`` / ``read_state`` and
the manifest here)::

    manifest.json       format version, the versions it was saved with, sha256 of every file
    estimator.json/npz  parameters, encoder, label codec, ensemble, per-model records
    models/NAME/        one bagged model per folder (bag.json, bag.npz, native model files)
    store/              with the run: every model's OOF predictions (automl.store)

``manifest.json`` is written last: a folder without it is a run in progress, not a model.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from . import __version__

FORMAT, FORMAT_VERSION = "automl-model", 1
MANIFEST = "manifest.json"
# The file a folder saved before the pickle-free format held (joblib, i.e. pickle).
LEGACY_FILE = "model.joblib"
LIBRARIES = ("numpy", "pandas", "scikit-learn", "lightgbm", "xgboost", "catboost", "torch")
# Native model formats read by their own library, which reads files of its own and earlier
# versions (LightGBM's text model, XGBoost's UBJSON, CatBoost's .cbm); an older library than the
# one that wrote the file is refused. Everything else is numpy arrays and JSON (the scikit-learn
# parts are their documented fitted attributes, TabM's weights are arrays), which any version reads.
NATIVE = {".txt": "lightgbm", ".ubj": "xgboost", ".cbm": "catboost"}


class KindAndValues:
    """The saved state of a small frozen rule that is a ``kind`` (one of the class's ``KINDS``)
    and a tuple of numbers ``values`` (a decision rule, a calibration map)."""

    KINDS: tuple[str, ...] = ()

    def get_state(self) -> dict:
        return {"kind": self.kind, "values": [float(v) for v in self.values]}

    @classmethod
    def from_state(cls, state: dict):
        if state.get("kind") not in cls.KINDS:
            raise ValueError(f"Unknown {cls.__name__} kind {state.get('kind')!r}.")
        return cls(state["kind"], tuple(state["values"]))


class ModelFolderError(ValueError):
    """A model folder that cannot be read: damaged, incomplete, or from incompatible versions."""


@dataclass(frozen=True)
class Blob:
    """A library's own serialized model; ``suffix`` names its format (a key of NATIVE)."""

    data: bytes
    suffix: str


def versions() -> dict[str, str]:
    found = {"automl": __version__}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


# ------------------------------------------------------------------ one component
def write_state(folder: Path, name: str, state: dict) -> None:
    """Writes ``state`` as ``folder/name.json`` + ``folder/name.npz`` + one file per blob."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    blobs: list[str] = []

    def encode(value):
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise TypeError(f"{name}: an object array cannot be saved without pickle")
            arrays[f"a{len(arrays)}"] = value
            return {"__array__": f"a{len(arrays) - 1}"}
        if isinstance(value, Blob):
            file = f"{name}.{len(blobs)}{value.suffix}"
            (folder / file).write_bytes(value.data)
            blobs.append(file)
            return {"__file__": file}
        if isinstance(value, dict):
            return {str(k): encode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"{name}: cannot save a {type(value).__name__} without pickle")

    tree = encode(state)
    np.savez(folder / f"{name}.npz", **arrays)
    (folder / f"{name}.json").write_text(json.dumps(tree))


def read_state(folder: Path, name: str) -> dict:
    """The state ``write_state`` wrote, with arrays and blobs in place of their references."""
    tree = json.loads((folder / f"{name}.json").read_text())
    with np.load(folder / f"{name}.npz", allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}

    def decode(value):
        if isinstance(value, dict):
            if "__array__" in value:
                return arrays[value["__array__"]]
            if "__file__" in value:
                file = value["__file__"]
                return Blob((folder / file).read_bytes(), Path(file).suffix)
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    return decode(tree)


def write_atomic_folder(folder: Path, write) -> None:
    """Calls ``write(temporary)`` then renames the temporary folder to ``folder``: whole or absent."""
    temporary = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    write(temporary)
    for file in temporary.iterdir():
        with open(file, "rb") as f:
            os.fsync(f.fileno())
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(temporary, folder)


# ------------------------------------------------------------------ the folder
def write_manifest(folder: Path, kind: str, extra: dict) -> None:
    """``manifest.json`` over every file under ``folder`` (written last, so it marks a complete folder)."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST
                       and not any(part.startswith(".") for part in p.relative_to(folder).parts)):
        files[path.relative_to(folder).as_posix()] = _sha256(path)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind, "versions": versions(),
                "requires": _required_libraries(files), **extra, "files": files}
    temporary = folder / f".{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=1))
    os.replace(temporary, folder / MANIFEST)


def read_manifest(folder: Path, verify: bool = True) -> dict:
    """The manifest of a model folder, after checking its format, versions and (``verify``) every
    file's checksum; each problem is one ModelFolderError naming the file."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists():
        if (folder / LEGACY_FILE).exists():
            raise ModelFolderError(
                f"{folder} was saved by an earlier automl as a pickle ({LEGACY_FILE}); this version never opens "
                "pickles, since loading one can run any code. Fit the model again (or load it with the automl "
                "version that saved it and save it again with this one).")
        if (folder / "store").is_dir():
            raise ModelFolderError(f"{folder} holds a run that did not finish (no {MANIFEST}); resume it with "
                                   "fit(..., resume=True) or `automl fit ... --resume`.")
        raise ModelFolderError(f"{folder} is not an automl model folder: {MANIFEST} is missing.")
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except json.JSONDecodeError as exc:
        raise ModelFolderError(f"{folder / MANIFEST} is not valid JSON ({exc}).") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise ModelFolderError(f"{folder / MANIFEST}: format {manifest.get('format')!r} version "
                               f"{manifest.get('format_version')!r}; this automl reads {FORMAT!r} version "
                               f"{FORMAT_VERSION}.")
    _check_versions(folder, manifest.get("requires", {}))
    for file, digest in manifest["files"].items():
        path = folder / file
        if not path.is_file():
            raise ModelFolderError(f"{folder}: {file} is missing (listed in {MANIFEST}).")
        if verify and _sha256(path) != digest:
            raise ModelFolderError(f"{folder}: {file} does not match its checksum in {MANIFEST}: "
                                   "the file was changed or damaged.")
    return manifest


def _required_libraries(files: dict) -> dict[str, str]:
    installed = versions()
    needed = {NATIVE[Path(f).suffix] for f in files if Path(f).suffix in NATIVE}
    return {name: installed[name] for name in sorted(needed)}


def _check_versions(folder: Path, required: dict[str, str]) -> None:
    installed = versions()
    for name, saved in required.items():
        have = installed.get(name)
        if have is None:
            raise ModelFolderError(f"{folder} holds {name} models; install {name} (>= {saved}) to load it.")
        if _release(have)[:2] < _release(saved)[:2]:
            raise ModelFolderError(f"{folder} holds {name} models saved with {name} {saved}; installed is {have}, "
                                   f"and {name} reads the models of its own and earlier versions only: "
                                   f"upgrade {name} to >= {saved}.")


def _release(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split("+")[0].split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
