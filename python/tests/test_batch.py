"""``radx.batch`` is ``radx batch``; the Dask recipe of docs/python.md, run on a LocalCluster of
2 workers, gives the same table."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import radx
from conftest import CASES, EXACT, PARAMS, REPO, run_cli

pytestmark = pytest.mark.filterwarnings("ignore::radx.RadxNoteWarning")


@pytest.fixture()
def cases(tmp_path):
    """A case list over brain2 and breast1 (twice), and one case whose image is missing."""
    rows = []
    for n in range(2):
        for name in ("brain2", "breast1"):
            image, mask, _ = CASES[name]
            rows.append({"id": f"{name}-{n}", "image": str(image), "mask": str(mask)})
    rows.insert(2, {"id": "missing", "image": str(tmp_path / "missing.nrrd"), "mask": str(CASES["brain2"][1])})
    path = tmp_path / "cases.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def read_batch_csv(path):
    table = pd.read_csv(path, dtype={"id": str, "status": str, "error": str}, **EXACT)
    table["error"] = table["error"].fillna("")
    table["label"] = table["label"].astype("Int64")
    return table


def assert_same_wide(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == list(expected.columns)
    for column in ("id", "status", "error"):
        assert actual[column].astype(str).tolist() == expected[column].astype(str).tolist(), column
    assert actual["label"].astype("Int64").tolist() == expected["label"].astype("Int64").tolist()
    a = actual.iloc[:, 4:].to_numpy(dtype=float)
    e = expected.iloc[:, 4:].to_numpy(dtype=float)
    assert ((a == e) | (np.isnan(a) & np.isnan(e))).all()


def test_batch_is_radx_batch(cli, cases, tmp_path):
    out = tmp_path / "cli.csv"
    run_cli(cli, "batch", cases, "--settings", PARAMS, "-o", out, "--quiet")
    expected = read_batch_csv(out)
    calls = []
    with pytest.warns(radx.RadxWarning, match=r"1 of 5 rows failed .*missing.nrrd"):
        table = radx.batch(cases, settings=PARAMS, progress=lambda done, total: calls.append((done, total)))
    assert_same_wide(table, expected)
    assert calls[0] == (0, 5) and calls[-1] == (5, 5) and len(calls) == 6
    assert table.loc[table["id"] == "missing", "status"].item() == "error"
    # A DataFrame of cases, and one worker thread: the same table.
    frame = pd.read_csv(cases, dtype={"id": str})
    with pytest.warns(radx.RadxWarning):
        assert_same_wide(radx.batch(frame, settings=PARAMS, jobs=1, progress=False), expected)


def test_batch_in_pyradiomics_layout_is_radx_batch(cli, tmp_path):
    case_list = REPO / "tests" / "data" / "pyradiomics" / "batch" / "cases.csv"
    out = tmp_path / "cli.csv"
    run_cli(cli, "batch", case_list, "--settings", PARAMS, "--names", "pyradiomics", "-o", out, "--quiet")
    expected = pd.read_csv(out, **EXACT)
    table = radx.batch(case_list, settings=PARAMS, names="pyradiomics", progress=False)
    pd.testing.assert_frame_equal(table, expected)
    assert [c for c in table.columns if c.startswith("diagnostics_")][0] == "diagnostics_Versions_PyRadiomics"


def test_batch_output_file_and_formats(cases, tmp_path):
    with pytest.warns(radx.RadxWarning):
        csv = radx.batch(cases, settings=PARAMS, progress=False)
    for suffix in ("parquet", "jsonl", "csv"):
        out = tmp_path / f"features.{suffix}"
        with pytest.warns(radx.RadxWarning):
            table = radx.batch(cases, settings=PARAMS, progress=False, output=out)
        assert out.is_file()
        assert_same_wide(table, csv)


def recipe(name: str) -> str:
    text = (REPO / "docs" / "python.md").read_text()
    match = re.search(rf"<!-- recipe: {name} -->\s*```python\n(.*?)```", text, re.S)
    assert match, f"docs/python.md has no `{name}` recipe"
    return match.group(1)


def test_dask_recipe_gives_radx_batch_s_table(cases, tmp_path):
    pytest.importorskip("dask.distributed")
    shutil.copy(PARAMS, tmp_path / "settings.yaml")
    script = tmp_path / "recipe.py"
    script.write_text(recipe("dask"))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_parquet(tmp_path / "features.parquet")
    with pytest.warns(radx.RadxWarning):
        expected = radx.batch(cases, settings=tmp_path / "settings.yaml", progress=False)
    assert_same_wide(table, expected)


def test_resume_runs_only_what_failed_and_refuses_other_settings(cases, tmp_path):
    out = tmp_path / "resumed.csv"
    with pytest.warns(radx.RadxWarning, match=r"1 of 5 rows failed"):
        first = radx.batch(cases, settings=PARAMS, output=out, progress=False)
    # The missing image appears: resuming runs that case alone and keeps the four others.
    shutil.copy(CASES["brain2"][0], tmp_path / "missing.nrrd")
    calls = []
    table = radx.batch(cases, settings=PARAMS, output=out, resume=True, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 1) and calls[-1] == (1, 1), calls
    assert table["status"].tolist() == ["ok"] * 5
    kept = table[table["id"] != "missing"].reset_index(drop=True)
    assert_same_wide(kept, first[first["id"] != "missing"].reset_index(drop=True))
    assert not (tmp_path / "resumed.csv.partial.jsonl").exists(), "the journal is removed once the table is written"
    # A journal left by a killed run with other inputs is refused, naming what changed.
    journal = tmp_path / "killed.csv.partial.jsonl"
    other = {"settings": "0", "features": "0", "plugins": "0", "names": "radx", "version": "0"}
    journal.write_text(json.dumps({"radx_journal": 1, "fingerprint": other}) + "\n")
    with pytest.raises(ValueError, match=r"killed.csv.partial.jsonl: written by a batch with other settings"):
        radx.batch(cases, settings=PARAMS, output=tmp_path / "killed.csv", resume=True, progress=False)
    with pytest.raises(ValueError, match=r"give output="):
        radx.batch(cases, settings=PARAMS, resume=True)
