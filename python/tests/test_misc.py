"""``radx.features()``, ``radx.check()``, ``radx.ibsi()``, ``import radx``'s cost."""

from __future__ import annotations

import subprocess
import sys

import pytest

import radx
from conftest import DATA, REPO, run_cli


def test_features_lists_the_library(cli):
    table = radx.features()
    assert list(table.columns) == ["family", "feature", "tag", "origin", "doc"]
    listed = run_cli(cli, "features", "list").splitlines()[1:]
    assert len(table) == len(listed)
    assert table["tag"].tolist() == [line.split()[2] for line in listed]
    assert "GYBY" in set(table["tag"])
    pyradiomics = radx.features("pyradiomics")
    assert "firstorder" in set(pyradiomics["family"])


def test_check_compiles_files_and_text(tmp_path):
    path = tmp_path / "my.radx"
    path.write_text(
        "family my_glcm over cm {\n  let px[i] = sum(j, p[i,j])\n  let mu = sum(i, i * px[i])\n"
        "  ## Square of the IBSI cluster tendency.\n"
        '  feature cluster_tendency_squared "MY01" = sum(i, j, (i + j - 2 * mu)^2 * p[i,j])^2\n}\n'
    )
    assert radx.check(path)["feature"].tolist() == ["cluster_tendency_squared"]
    assert radx.check(str(path))["tag"].tolist() == ["MY01"]
    assert len(radx.check(REPO / "features")) > 150
    with pytest.raises(FileNotFoundError):
        radx.check(str(tmp_path / "missing.radx"))


def test_ibsi_digital_phantom_passes():
    report = radx.ibsi("digital")
    with_reference = report[report["pass"].notna()]
    assert len(with_reference) == 482
    assert with_reference["pass"].all()


def test_ibsi_all_as_the_command_line(cli):
    ct = DATA / "ibsi" / "ct_phantom"
    report = radx.ibsi("all", ct_dir=ct)
    assert report["pass"].dropna().all()
    csv = run_cli(cli, "ibsi", "--phantom", "all", "--ct-phantom", ct, "--format", "csv").splitlines()
    assert len(report) == len(csv) - 1
    with pytest.raises(FileNotFoundError, match="ct_dir"):
        radx.ibsi("ct", ct_dir=DATA / "no such folder")
    with pytest.raises(FileNotFoundError):
        radx.ibsi("ct", ct_dir=DATA)  # a folder without the phantom: radx names the file


def test_readme_example_runs():
    """The ten lines of README.md's Python section, run from the repository's top folder."""
    import re

    text = (REPO / "README.md").read_text()
    section = text[text.index("## Python") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "glcm" in done.stdout


def test_import_is_light():
    """``import radx`` loads neither pandas nor numpy (they come with the first table)."""
    code = "import sys, radx; print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
