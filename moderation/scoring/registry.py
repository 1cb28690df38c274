"""Model versions on disk: one folder per version, a pointer to the active one, and a history.

Layout of `models/`:
    ACTIVE                 the active version id, one line
    HISTORY                previously active version ids, oldest first (for rollback)
    <version>/spam.skops  <version>/toxicity.skops  <version>/manifest.json
    <version>/heads.npz    the heads' scoring weights as plain arrays (see heads.py); versions saved
                           before it existed lack it, and `add_heads_file` gives it to them
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import skops.io as sio

from .features import FEATURE_VERSION
from .heads import HEADS_FILE, read_heads, write_heads

MODEL_FILES = ("spam.skops", "toxicity.skops")
ACTIVE_FILE = "ACTIVE"
HISTORY_FILE = "HISTORY"
HISTORY_KEEP = 20
# Types a shipped model may contain. Loading refuses anything else instead of trusting all,
# because a .skops file from elsewhere could otherwise construct arbitrary objects.
TRUSTED_TYPES = [
    "moderation.scoring.features.CommentFeaturizer",
    "moderation.scoring.model.DomainLogit",
    "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._stochastic_gradient.SGDClassifier",
    "sklearn.pipeline.Pipeline",
    "sklearn.svm._classes.LinearSVC",
]


class ModelLoadError(RuntimeError):
    """A model version is missing, damaged, or does not match its manifest."""


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    # Write beside the target then rename, so a reader never sees a half-written pointer.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.chmod(tmp, 0o644)  # mkstemp makes it private; workers under other users must read it
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_version(models_dir: Path, version: str, models: dict, manifest: dict) -> Path:
    """Write a complete version folder (models, head weights, checksums, manifest) atomically; return its path."""

    def write(staging):
        checksums = {}
        for name, model in models.items():
            path = staging / f"{name}.skops"
            sio.dump(model, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
            checksums[path.name] = sha256_of(path)
        # The weights are read out of the sklearn objects here, once, so that loading never has to.
        write_heads(staging / HEADS_FILE, models)
        checksums[HEADS_FILE] = sha256_of(staging / HEADS_FILE)
        return checksums

    return _write_version(Path(models_dir), version, manifest, write)


def copy_version(models_dir: Path, base: str, version: str, manifest: dict) -> Path:
    """Write a version whose files are `base`'s, byte for byte, under a new manifest (a new rule, the same models);
    return its path."""
    models_dir = Path(models_dir)
    files = read_manifest(models_dir, base)["files"]

    def write(staging):
        for filename in files:
            shutil.copyfile(models_dir / base / filename, staging / filename)
        copied = {filename: sha256_of(staging / filename) for filename in files}
        if copied != files:
            raise ModelLoadError(f"the files of model version {base} do not match its manifest's checksums")
        return copied

    return _write_version(models_dir, version, manifest, write)


def _write_version(models_dir: Path, version: str, manifest: dict, write) -> Path:
    """Fill a staging folder with `write(staging)` (which returns the files' checksums), add the manifest, and move
    it into place as `version`."""
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / version
    if final.exists():
        raise FileExistsError(f"model version {version} already exists")
    staging = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{version}."))
    try:
        manifest = {**manifest, "version": version, "files": write(staging)}
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        os.chmod(staging, 0o755)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def read_manifest(models_dir: Path, version: str) -> dict:
    """Read and sanity-check the manifest of a version."""
    path = Path(models_dir) / version / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read manifest of model version {version!r}: {exc}") from exc
    if manifest.get("version") != version:
        raise ModelLoadError(f"manifest of {version!r} names version {manifest.get('version')!r}")
    if sorted(manifest.get("files", {})) not in (sorted(MODEL_FILES), sorted((*MODEL_FILES, HEADS_FILE))):
        raise ModelLoadError(f"manifest of {version!r} does not list {MODEL_FILES}")
    return manifest


def load_models(models_dir: Path, version: str) -> tuple[dict, dict]:
    """Load a version's models after checking every checksum; return (models, manifest)."""
    models, _heads, manifest = load_version_files(models_dir, version)
    return models, manifest


def load_version_files(models_dir: Path, version: str) -> tuple[dict, dict | None, dict]:
    """Load a version's models and head weights after checking every checksum; return (models, heads, manifest).

    `heads` is None for a version saved before the weights file existed.
    """
    manifest = read_manifest(models_dir, version)
    # A version fitted on features this code no longer computes would load and score garbage;
    # refusing it here also keeps `set_active` and `rollback` from pointing ACTIVE at it.
    fitted_on = manifest.get("features", {}).get("feature_version")
    if fitted_on is not None and fitted_on != FEATURE_VERSION:
        raise ModelLoadError(
            f"model version {version!r} was fitted on features of version {fitted_on}, "
            f"this code computes version {FEATURE_VERSION}; retrain"
        )
    models, heads = {}, None
    for filename, expected in manifest["files"].items():
        path = Path(models_dir) / version / filename
        if not path.is_file():
            raise ModelLoadError(f"model file {path} is missing")
        if sha256_of(path) != expected:
            raise ModelLoadError(f"checksum of {path} does not match its manifest")
        if filename == HEADS_FILE:
            try:
                heads = read_heads(path)
            except ValueError as exc:
                raise ModelLoadError(f"cannot load {path}: {exc}") from exc
            continue
        try:
            untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
            if untrusted:
                raise ModelLoadError(f"{path} contains untrusted types: {sorted(untrusted)}")
            models[filename.removesuffix(".skops")] = sio.load(path, trusted=TRUSTED_TYPES)
        except ModelLoadError:
            raise
        except Exception as exc:  # skops raises many types for a damaged archive
            raise ModelLoadError(f"cannot load {path}: {exc}") from exc
    return models, heads, manifest


def add_heads_file(models_dir: Path, version: str) -> bool:
    """Give a version saved before the weights file existed its heads.npz; False when it has one already.

    The models stay as they are; the manifest gains the file's checksum and is replaced atomically,
    after the file is in place, so that a worker loading meanwhile sees either layout whole.
    """
    models, heads, manifest = load_version_files(models_dir, version)
    if heads is not None:
        return False
    folder = Path(models_dir) / version
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{HEADS_FILE}.")
    os.close(fd)
    try:
        write_heads(Path(tmp), models)
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / HEADS_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    manifest = {**manifest, "files": {**manifest["files"], HEADS_FILE: sha256_of(folder / HEADS_FILE)}}
    _write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return True


def active_version(models_dir: Path) -> str:
    """Return the id in the ACTIVE pointer file."""
    try:
        version = (Path(models_dir) / ACTIVE_FILE).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ModelLoadError(f"no active model in {models_dir}: {exc}") from exc
    if not version or "/" in version or version.startswith("."):
        raise ModelLoadError(f"invalid active model pointer {version!r}")
    return version


def _history(models_dir: Path) -> list[str]:
    path = Path(models_dir) / HISTORY_FILE
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def set_active(models_dir: Path, version: str) -> None:
    """Point ACTIVE at a version after checking it loads; remember the previous one for rollback."""
    models_dir = Path(models_dir)
    load_models(models_dir, version)
    try:
        previous = active_version(models_dir)
    except ModelLoadError:
        previous = None
    if previous == version:
        return
    if previous:
        history = (_history(models_dir) + [previous])[-HISTORY_KEEP:]
        _write_atomic(models_dir / HISTORY_FILE, "\n".join(history) + "\n")
    _write_atomic(models_dir / ACTIVE_FILE, version + "\n")


def rollback(models_dir: Path) -> str:
    """Re-activate the most recent previously active version that still loads; return its id."""
    models_dir = Path(models_dir)
    history = _history(models_dir)
    current = None
    try:
        current = active_version(models_dir)
    except ModelLoadError:
        pass
    while history:
        candidate = history.pop()
        if candidate == current or not (models_dir / candidate).is_dir():
            continue
        try:
            load_models(models_dir, candidate)
        except ModelLoadError:
            continue
        _write_atomic(models_dir / ACTIVE_FILE, candidate + "\n")
        _write_atomic(models_dir / HISTORY_FILE, "".join(v + "\n" for v in history))
        return candidate
    raise ModelLoadError("no earlier model version to roll back to")


def list_versions(models_dir: Path) -> list[dict]:
    """Return the manifests of all versions, oldest first, each with an `active` flag."""
    models_dir = Path(models_dir)
    try:
        current = active_version(models_dir)
    except ModelLoadError:
        current = None
    out = []
    if not models_dir.is_dir():
        return out
    for folder in sorted(p for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            manifest = read_manifest(models_dir, folder.name)
        except ModelLoadError:
            continue
        out.append({**manifest, "active": folder.name == current})
    return sorted(out, key=lambda m: (m.get("created", ""), m["version"]))


def remove_version(models_dir: Path, version: str) -> None:
    """Delete an inactive version folder (to keep the shipped models small)."""
    if version == active_version(models_dir):
        raise ValueError("cannot remove the active model version")
    folder = Path(models_dir) / version
    # Only a version folder directly inside models_dir: never "..", a path, a hidden folder or a file.
    if (
        not version
        or version.startswith(".")
        or folder.parent != Path(models_dir)
        or not folder.is_dir()
        or not (folder / "manifest.json").is_file()
    ):
        raise ValueError(f"no model version {version!r}")
    shutil.rmtree(folder)
    history = [v for v in _history(models_dir) if v != version]
    _write_atomic(Path(models_dir) / HISTORY_FILE, "".join(v + "\n" for v in history))
