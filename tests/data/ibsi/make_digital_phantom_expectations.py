"""Writes digital_phantom.radx: the IBSI digital phantom's reference values (the table
reference_values_digital_phantom.csv, transcribed from the IBSI reference manual) as
`radx test` expectations on the built-in families.

Feature names come from the tags in features/*.radx (the IBSI permanent ids: the instance
id for parametrised features such as the IVH's V10, found in the CT phantom's table when
the digital phantom's row lacks it). Tolerances: the published one where the manual gives
one, else half a unit in the third significant digit (the manual prints values to three
digits); to that is added half a unit in the third significant digit in every case, since
the IBSI (and `radx ibsi`) compare a value rounded to three digits. No value here comes
from radx. Run from the repository root: python3 tests/data/ibsi/make_digital_phantom_expectations.py
"""

import csv
import math
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[3]
HERE = ROOT / "tests/data/ibsi"

AGGREGATIONS = {
    "BTW3": "2d_avg", "8QNN": "2d_avg", "SUJT": "2d_smrg", "JJUI": "2_5d_dmrg",
    "ZW7Z": "2_5d_mrg", "62GR": "2_5d_mrg", "ITBB": "3d_avg", "IAZD": "3d_mrg", "KOBO": "3d_mrg",
}


def tags():
    """(family, tag) -> feature name, from the built-in feature files."""
    out = {}
    for path in sorted((ROOT / "features").glob("*.radx")):
        family = None
        for line in path.read_text().splitlines():
            m = re.match(r"\s*family\s+(\w+)\s+over", line)
            if m:
                family = m.group(1)
            m = re.match(r'\s*feature\s+(\w+)\s+"([^"]+)"', line)
            if m:
                out[(family, m.group(2))] = m.group(1)
    return out


def half_unit(x):
    return 5e-4 if x == 0 else 0.5 * 10 ** (math.floor(math.log10(abs(x))) - 2)


def number(x):
    """Shortest decimal that reads back as x, without an exponent for everyday sizes."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def main():
    names = tags()
    with open(HERE / "reference_values_ct_phantom.csv") as f:
        instance = {r["feature_key"]: r["ibsi_instance_id"] for r in csv.DictReader(f) if r["ibsi_instance_id"]}
    lines = [
        "# The IBSI digital phantom's reference values (IBSI reference manual; the table",
        "# reference_values_digital_phantom.csv) as expectations on the built-in families.",
        "# Written by make_digital_phantom_expectations.py, which says where every number comes from.",
        "# Run: radx test tests/data/ibsi/digital_phantom.radx",
        "",
        "## Every IBSI reference value of the digital phantom, with the phantom's settings",
        "## (a bin width of 1 from 1: the grey levels are the intensities).",
        'test "IBSI digital phantom" {',
        '  image = "digital_phantom/image.nii.gz"',
        '  mask = "digital_phantom/mask.nii.gz"',
        '  settings = "digital_phantom.toml"',
    ]
    with open(HERE / "reference_values_digital_phantom.csv") as f:
        for r in csv.DictReader(f):
            if r["has_reference"] != "yes":
                continue
            tag = r["ibsi_instance_id"] or instance.get(r["feature_key"]) or r["ibsi_feature_id"]
            feature = names[(r["family"], tag)]
            value = float(r["value"])
            published = float(r["tolerance"] or 0)
            tolerance = published if r["tolerance_given"] == "yes" else max(published, half_unit(value))
            tolerance += half_unit(value)
            target = f"{r['family']}.{feature}"
            if r["aggregation_id"] in AGGREGATIONS:
                target += "." + AGGREGATIONS[r["aggregation_id"]]
            lines.append(f"  expect {target} = {r['value']} ± {number(float(f'{tolerance:.6g}'))}")
    lines.append("}")
    (HERE / "digital_phantom.radx").write_text("\n".join(lines) + "\n")


main()
