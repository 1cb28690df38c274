"""The scoring weights of a version's linear heads, as plain arrays in one file beside its models.

A fitted pipeline keeps its weights inside sklearn objects (a FrozenEstimator inside a
CalibratedClassifierCV inside a Pipeline). Reading them out is tied to sklearn's private layout,
so it is done once, when a version is saved; the loader builds the scorer from the arrays.

`heads.npz` (numpy's zip of .npy arrays, read with allow_pickle=False: numbers only, never text
or objects) holds, for each task `t` in ("spam", "toxicity"):
    t.coef              (heads, features) weight rows, in the fitted dtype (float32 for DomainLogit)
    t.intercepts        (heads,) float64
    t.route_columns     (routes,) int64      route k (from 1) sends a row whose feature column exceeds
    t.route_thresholds  (routes,) float64    its threshold to head k; the first matching route wins
and one calibration map: t.sigmoid (2,) [a, b], p = 1 / (1 + exp(a*d + b)), or t.isotonic
(2, n) x and y thresholds, p = clipped linear interpolation. `format` (1,) is the layout's number.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEADS_FILE = "heads.npz"
FORMAT = 1
TASKS = ("spam", "toxicity")


@dataclass(frozen=True)
class HeadWeights:
    """Everything one task's scorer needs: weight rows per head, routes and the calibration map."""

    coef: np.ndarray
    intercepts: np.ndarray
    route_columns: np.ndarray
    route_thresholds: np.ndarray
    sigmoid: np.ndarray | None = None
    isotonic: np.ndarray | None = None

    def arrays(self, task: str) -> dict[str, np.ndarray]:
        """The arrays under their names in the weights file."""
        out = {
            "coef": self.coef,
            "intercepts": self.intercepts,
            "route_columns": self.route_columns,
            "route_thresholds": self.route_thresholds,
            "sigmoid": self.sigmoid,
            "isotonic": self.isotonic,
        }
        return {f"{task}.{name}": value for name, value in out.items() if value is not None}


def head_weights(pipeline) -> HeadWeights:
    """Read the scoring weights out of a fitted pipeline (featurizer, CalibratedClassifierCV)."""
    inner = pipeline.steps[-1][1].calibrated_classifiers_
    if len(inner) != 1:
        raise ValueError("expected a calibrated classifier with a single calibration map")
    estimator = inner[0].estimator
    estimator = getattr(estimator, "estimator", estimator)  # unwrap FrozenEstimator
    calibrator = inner[0].calibrators[0]
    # One row per head (DomainLogit) or the single weight row of a plain linear model.
    coef = np.atleast_2d(getattr(estimator, "head_coef_", estimator.coef_))
    if hasattr(estimator, "intercepts"):
        intercepts = np.asarray(estimator.intercepts(), dtype=np.float64)
    else:
        intercepts = np.full(len(coef), float(np.ravel(estimator.intercept_)[0]))
    routes = getattr(estimator, "routes", ())
    weights = {
        "coef": np.array(coef),
        "intercepts": intercepts.copy(),
        "route_columns": np.array([int(column) for _, column, _ in routes], dtype=np.int64),
        "route_thresholds": np.array([float(threshold) for _, _, threshold in routes], dtype=np.float64),
    }
    if hasattr(calibrator, "a_"):
        return HeadWeights(**weights, sigmoid=np.array([calibrator.a_, calibrator.b_], dtype=np.float64))
    if getattr(calibrator, "out_of_bounds", None) == "clip":  # as CalibratedClassifierCV fits it
        return HeadWeights(**weights, isotonic=np.vstack([calibrator.X_thresholds_, calibrator.y_thresholds_]))
    raise ValueError(f"unsupported calibration map {type(calibrator).__name__}")


def write_heads(path: Path, pipelines: dict) -> None:
    """Write the weights file of a version's pipelines (one per task)."""
    arrays = {"format": np.array([FORMAT], dtype=np.int64)}
    for task in TASKS:
        arrays.update(head_weights(pipelines[task]).arrays(task))
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def read_heads(path: Path) -> dict[str, HeadWeights]:
    """Read a weights file into one HeadWeights per task; ValueError when it is not one this code writes."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a weights file: {exc}") from exc
    if arrays.get("format", np.array([])).tolist() != [FORMAT]:
        raise ValueError(f"{path}: weights format {arrays.get('format')}, this code reads format {FORMAT}")
    for name, value in arrays.items():
        if value.dtype.kind not in "iuf":
            raise ValueError(f"{path}: array {name} holds {value.dtype}, not numbers")
    out = {}
    for task in TASKS:
        part = {name.removeprefix(f"{task}."): value for name, value in arrays.items() if name.startswith(f"{task}.")}
        try:
            head = HeadWeights(**part)
        except TypeError as exc:  # an array missing or one this code does not know
            raise ValueError(f"{path}: the {task} weights are incomplete: {exc}") from exc
        calibrations = (head.sigmoid is not None) + (head.isotonic is not None)
        n_heads = len(head.route_columns) + 1
        if (
            head.coef.ndim != 2
            or head.coef.shape[0] != n_heads
            or head.intercepts.shape != (n_heads,)
            or head.route_thresholds.shape != head.route_columns.shape
            or calibrations != 1
            or (head.sigmoid is not None and head.sigmoid.shape != (2,))
            or (head.isotonic is not None and (head.isotonic.ndim != 2 or head.isotonic.shape[0] != 2))
        ):
            raise ValueError(f"{path}: the {task} weights do not fit together")
        out[task] = head
    return out
