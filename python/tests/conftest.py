"""Shared paths and helpers: the repository's test data, and the `radx` command line to
compare with (``RADX_BIN``, else ``target/{release,debug}/radx`` under the repository; the
tests that compare with it are skipped when there is none)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# read_csv's floats read back exactly: pandas 3 by default, older ones when asked.
EXACT = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
PYRADIOMICS = DATA / "pyradiomics"
PARAMS = PYRADIOMICS / "params" / "examples" / "Params.yaml"

# name -> (image, mask, radx settings or None for radx's defaults)
CASES = {
    "digital": (
        DATA / "ibsi" / "digital_phantom" / "image.nii.gz",
        DATA / "ibsi" / "digital_phantom" / "mask.nii.gz",
        DATA / "ibsi" / "digital_phantom.toml",
    ),
    "brain2": (PYRADIOMICS / "data" / "brain2_image.nrrd", PYRADIOMICS / "data" / "brain2_label.nrrd", None),
    "breast1": (PYRADIOMICS / "data" / "breast1_image.nrrd", PYRADIOMICS / "data" / "breast1_label.nrrd", None),
}


def find_cli() -> "Path | None":
    explicit = os.environ.get("RADX_BIN")
    if explicit:
        return Path(explicit)
    for candidate in (REPO / "target" / "release" / "radx", REPO / "target" / "debug" / "radx"):
        if candidate.is_file():
            return candidate
    found = shutil.which("radx")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def cli() -> Path:
    path = find_cli()
    if path is None or not path.is_file():
        pytest.skip("no radx command line to compare with (set RADX_BIN or run cargo build)")
    return path


def run_cli(cli: Path, *args: object) -> str:
    done = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def cli_extract(cli: Path, image: object, mask: object, settings: object = None, *extra: object) -> pd.DataFrame:
    args = ["extract", "--image", image, "--mask", mask]
    if settings is not None:
        args += ["--settings", settings]
    text = run_cli(cli, *args, *extra)
    return pd.read_csv(io.StringIO(text), **EXACT, keep_default_na=False, na_values=["NaN"])


def assert_same_table(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns, same keys in the same order, the same values bit for bit (NaN = NaN).
    The command line's last column, `note` (empty where there is none), is compared when the
    table has one (``notes=True``)."""
    if "note" in expected.columns:
        if "note" in actual.columns:
            actual = actual.assign(note=actual["note"].fillna(""))
        else:
            expected = expected.drop(columns="note")
    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected)
    for column in actual.columns:
        if column == "value":
            a = actual[column].to_numpy(dtype=float)
            e = expected[column].to_numpy(dtype=float)
            same = (a == e) | (np.isnan(a) & np.isnan(e))
            assert same.all(), actual[~same].assign(expected=e[~same]).to_string()
        else:
            assert actual[column].astype(str).tolist() == expected[column].astype(str).tolist(), column
