"""radx's Python API: ``extract``, ``Extractor``, ``batch``, ``check``, ``features``, ``ibsi``.

pandas is imported when a table is made, not with ``radx`` (``import radx`` stays fast).
"""

from __future__ import annotations

import os
import sys
import warnings

from . import _inputs, _radx

# `typing`, `json`, `tempfile` and pandas are imported where they are needed, not with
# `radx`: they would double `import radx`'s time. (Type checkers read this block.)
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

    import pandas as pd

    PathLike = Union[str, "os.PathLike[str]"]
    Settings = Union[PathLike, Mapping[str, Any], None]
    Paths = Union[PathLike, Sequence[PathLike], None]

LONG_COLUMNS = ["image_type", "family", "feature", "tag", "aggregation", "value"]


class RadxWarning(UserWarning):
    """A warning from radx: a setting it ignores, a plugin it skipped, a failed case."""


class RadxNoteWarning(RadxWarning):
    """Feature values that are NaN or infinite for a case, with radx's reason (a one-voxel ROI
    has no texture…). Silence with ``warnings.simplefilter("ignore", radx.RadxNoteWarning)``."""


def _paths(value: Paths) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [os.fspath(value)]
    return [os.fspath(v) for v in value]


def _settings_args(settings: Settings) -> Dict[str, Any]:
    import json
    from collections.abc import Mapping

    if settings is None:
        return {}
    if isinstance(settings, (str, os.PathLike)):
        return {"settings": os.fspath(settings)}
    if isinstance(settings, Mapping):
        # JSON is YAML: the engine reads it as it reads a settings file (either schema).
        return {"settings_text": json.dumps(settings, default=_json_default), "text_name": "<settings mapping>"}
    raise TypeError(
        f"settings must be a file path or a mapping (radx's settings or a PyRadiomics parameter dict), "
        f"got {type(settings).__name__}"
    )


def _json_default(value: Any) -> Any:
    # numpy scalars and arrays, tuples of them: as Python numbers and lists.
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"settings: cannot write {type(value).__name__} {value!r} as a setting")


def _warn(messages: Iterable[str], category: type = RadxWarning, stacklevel: int = 3) -> None:
    for message in messages:
        warnings.warn(message, category, stacklevel=stacklevel + 1)


def _notes(columns: Mapping[str, Any]) -> List[str]:
    """One line per (family, reason) of the NaN or infinite values."""
    groups: Dict[Any, int] = {}
    for image_type, family, note in zip(columns["image_type"], columns["family"], columns["note"]):
        if note is not None:
            key = (image_type, family, note)
            groups[key] = groups.get(key, 0) + 1
    lines = []
    for (image_type, family, note), count in groups.items():
        where = family if image_type == "original" else f"{image_type} {family}"
        lines.append(f"{where}: {count} value{'s' if count > 1 else ''} NaN or infinite: {note}")
    return lines


class Extractor:
    """Settings, feature files and plugins compiled once; ``extract`` any number of cases,
    from any number of threads (each extraction releases the GIL).

    Args:
        settings: a settings file (radx's TOML/YAML, or a PyRadiomics parameter file), or a
            mapping in either schema (``{"setting": {...}, "featureClass": {...}}`` is
            PyRadiomics'); ``None``: radx's defaults (the IBSI library).
        features: extra feature files (``.radx``) or folders of them.
        plugins: plugin libraries to load (those in ``RADX_PLUGIN_PATH``'s folders too).
        library: ``"ibsi"`` or ``"pyradiomics"``; default: PyRadiomics' for PyRadiomics
            settings, else the IBSI's.
        names: ``"radx"`` or ``"pyradiomics"`` (``original_glcm_Contrast``, PyRadiomics'
            library only).
        strict: refuse PyRadiomics settings radx does not support instead of warning.
        exclude_nonfinite: drop NaN and infinite voxels from the ROI instead of refusing.
        max_memory: memory budget in bytes or as text (``"4G"``); default the least of half
            the physical memory, the cgroup limit and ``ulimit -v``.
        eval_budget: operations each feature family may spend per case and aggregation
            (default 2**40); a feature needing more is NaN with a note naming it and its line.
        allow_untrusted_plugins: load plugin libraries that other users could have replaced
            (writable by others, or owned by another user than you and root, or in such a
            folder); refused by default (docs/plugins.md, "Trust").

    Raises:
        FileNotFoundError: a settings, feature or plugin file does not exist.
        ValueError: the settings or a feature file are invalid (radx's message names the key
            or line).

    Warnings (``RadxWarning``): settings radx ignores, plugins in ``RADX_PLUGIN_PATH`` it skips.
    """

    def __init__(
        self,
        settings: Settings = None,
        *,
        features: Paths = None,
        plugins: Paths = None,
        library: Optional[str] = None,
        names: str = "radx",
        strict: bool = False,
        exclude_nonfinite: bool = False,
        max_memory: Union[int, str, None] = None,
        eval_budget: Optional[int] = None,
        allow_untrusted_plugins: bool = False,
    ) -> None:
        self._native = _radx.Extractor(
            **_settings_args(settings),
            features=_paths(features),
            plugins=_paths(plugins),
            library=library,
            names=names,
            strict=strict,
            exclude_nonfinite=exclude_nonfinite,
            max_memory=max_memory,
            eval_budget=eval_budget,
            allow_untrusted_plugins=allow_untrusted_plugins,
        )
        _warn(self._native.warnings, stacklevel=2)

    @property
    def label(self) -> int:
        """The settings' ROI label: what ``extract`` uses when given none."""
        return self._native.label

    @property
    def warnings(self) -> List[str]:
        """What loading the settings and plugins warned about."""
        return list(self._native.warnings)

    def __repr__(self) -> str:
        return repr(self._native)

    def extract(
        self,
        image: Any,
        mask: Any,
        *,
        label: Optional[int] = None,
        spacing: Any = None,
        origin: Any = None,
        direction: Any = None,
        axes: str = "xyz",
        diagnostics: bool = False,
        notes: bool = False,
        roi: Optional[str] = None,
        segment: Optional[str] = None,
        series: Optional[str] = None,
    ) -> "pd.DataFrame":
        """The features of one case as a long table.

        Args:
            image, mask: each a file path (NIfTI, NRRD), a SimpleITK image, a nibabel image, a
                ``radx.Volume``, or a numpy array (see ``spacing``). The mask is a label map on
                the image's grid. As paths, the image may also be a DICOM series folder or a
                DICOM image file, and the mask an RTSTRUCT or a DICOM SEG (placed on the
                image's grid, as ``radx extract`` reads them).
            label: the ROI's label in a label map (default: the settings', 1).
            roi: the ROI's name in an RTSTRUCT mask (default: its only ROI).
            segment: the segment of a SEG mask, by number or label (default: its only one).
            series: the SeriesInstanceUID to read from a DICOM folder of several series.
            spacing, origin, direction: the grid of numpy-array inputs, in (x, y, z) order,
                LPS world coordinates (origin: voxel [0, 0, 0]'s centre; direction: 3×3
                direction cosines, column c along array axis c). An array without them takes
                the other input's grid when that is an image or Volume.
            axes: how a numpy array is indexed: ``"xyz"`` (``array[x, y, z]``, radx's and
                nibabel's order) or ``"zyx"`` (``array[z, y, x]``, SimpleITK's
                ``GetArrayFromImage`` order). Either layout is read in place.
            diagnostics: add the IBSI processing diagnostics (family ``diagnostics``).
            notes: add a ``note`` column: why a value is NaN or infinite.

        Returns:
            pandas.DataFrame with columns image_type, family, feature, tag, aggregation,
            value (``-`` where a tag or aggregation does not apply), as ``radx extract``.

        Raises:
            FileNotFoundError: an input file does not exist.
            ValueError: unreadable inputs, an array of another dtype or dimension, mismatched
                grids, spacing <= 0, an empty ROI… (radx's message says which).

        Warnings (``RadxNoteWarning``): which values are NaN or infinite, and why.
        """
        import pandas as pd

        image, mask = _inputs.case(image, mask, spacing, origin, direction, axes)
        columns = self._native.extract(image, mask, label, diagnostics, roi, segment, series)
        table = pd.DataFrame({name: columns[name] for name in LONG_COLUMNS})
        if notes:
            table["note"] = columns["note"]
        _warn(_notes(columns), RadxNoteWarning, stacklevel=2)
        return table

    def extract_row(
        self,
        image: Any,
        mask: Any,
        *,
        id: Optional[str] = None,
        label: Optional[int] = None,
        spacing: Any = None,
        origin: Any = None,
        direction: Any = None,
        axes: str = "xyz",
        roi: Optional[str] = None,
        segment: Optional[str] = None,
        series: Optional[str] = None,
    ) -> Dict[str, Any]:
        """One case as one row of ``radx batch``'s wide table: ``{"id", "label", "status",
        "error", then one entry per feature column}``. A case that fails gives
        ``status="error"`` and radx's message, as in ``radx batch`` (for the Dask and Ray
        recipes: ``pandas.DataFrame(rows)`` is then ``radx batch``'s table). The inputs and
        ``roi``, ``segment``, ``series`` are as for ``extract``."""
        try:
            image, mask = _inputs.case(image, mask, spacing, origin, direction, axes)
            label, columns, values = self._native.extract_row(image, mask, label, roi, segment, series)
        except (ValueError, OSError) as error:
            label = self.label if label is None else label
            return {"id": id, "label": label, "status": "error", "error": str(error)}
        row: Dict[str, Any] = {"id": id, "label": label, "status": "ok", "error": ""}
        row.update(zip(columns, values.tolist()))
        return row

    def map(
        self,
        image: Any,
        mask: Any,
        *,
        radius: Optional[int] = None,
        sphere_mm: Optional[float] = None,
        masked: Optional[bool] = None,
        init_value: Optional[float] = None,
        families: Optional[Sequence[str]] = None,
        output: str = "numpy",
        label: Optional[int] = None,
        spacing: Any = None,
        origin: Any = None,
        direction: Any = None,
        axes: str = "xyz",
        roi: Optional[str] = None,
        segment: Optional[str] = None,
        series: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Voxel-wise feature maps of one case, as ``radx map`` computes them.

        Every feature of the chosen families, computed in the window around each voxel of
        the ROI (docs/maps.md).

        Args:
            image, mask, label, roi, segment, series, spacing, origin, direction: the case,
                as for ``extract``.
            radius: the window, a cube of ``2 * radius + 1`` voxels a side.
            sphere_mm: the window, the voxels within this many mm (instead of ``radius``).
                Neither: the parameter file's ``voxelSetting``, else a cube of radius 1.
            masked: only ROI voxels in the window count (default True; PyRadiomics'
                ``maskedKernel``).
            init_value: the maps' value outside the ROI (default NaN).
            families: the families to map (default: every one that can be mapped).
            output: ``"numpy"`` (float64 arrays indexed as ``axes`` says) or ``"sitk"``
                (SimpleITK images on the maps' grid).
            axes: ``"xyz"`` (``array[x, y, z]``) or ``"zyx"`` (SimpleITK's array order), for
                numpy inputs and numpy outputs.

        Returns:
            dict: map name (``original_glcm_joint_entropy_3d_avg``, or PyRadiomics' names
            with a PyRadiomics parameter file) to its array or image, in the extraction's
            order.

        Raises:
            ValueError: a radius of 0, a sphere holding only its centre voxel, a window
                larger than the image, an unknown family or one computed over the whole ROI.
        """
        if output not in ("numpy", "sitk"):
            raise ValueError(f'output must be "numpy" or "sitk", got {output!r}')
        if axes not in ("xyz", "zyx"):
            raise ValueError(f'axes must be "xyz" or "zyx", got {axes!r}')
        image, mask = _inputs.case(image, mask, spacing, origin, direction, axes)
        names, arrays, (grid_spacing, grid_origin, grid_direction) = self._native.map(
            image, mask, label, roi, segment, series, radius, sphere_mm, masked, init_value, list(families or [])
        )
        if output == "numpy":
            return {n: (a if axes == "xyz" else a.transpose(2, 1, 0)) for n, a in zip(names, arrays)}
        import SimpleITK as sitk

        maps = {}
        for name, array in zip(names, arrays):
            # SimpleITK's arrays are indexed [z, y, x].
            itk = sitk.GetImageFromArray(array.transpose(2, 1, 0).copy())
            itk.SetSpacing(tuple(grid_spacing))
            itk.SetOrigin(tuple(grid_origin))
            itk.SetDirection(tuple(grid_direction))
            maps[name] = itk
        return maps

    def feature_names(
        self, image: Any = None, mask: Any = None, *, label: Optional[int] = None, **geometry: Any
    ) -> List[str]:
        """The feature columns ``radx batch`` writes with this extractor, in order
        (``family.feature[.aggregation]``, filters' prefixed by their image type; with
        ``names="pyradiomics"``, PyRadiomics' names). Every case gets the same columns;
        without a case they come from a small synthetic one (give ``image`` and ``mask``
        when settings refuse it; ``geometry``: ``spacing``, ``origin``, ``direction``,
        ``axes`` as for ``extract``)."""
        if image is None and mask is None:
            return list(self._native.feature_names())
        image, mask = _inputs.case(image, mask, **geometry)
        return list(self._native.feature_names(image, mask, label))


def extract(
    image: Any,
    mask: Any,
    *,
    settings: Settings = None,
    features: Paths = None,
    plugins: Paths = None,
    label: Optional[int] = None,
    library: Optional[str] = None,
    names: str = "radx",
    spacing: Any = None,
    origin: Any = None,
    direction: Any = None,
    axes: str = "xyz",
    diagnostics: bool = False,
    notes: bool = False,
    roi: Optional[str] = None,
    segment: Optional[str] = None,
    series: Optional[str] = None,
    strict: bool = False,
    exclude_nonfinite: bool = False,
    max_memory: Union[int, str, None] = None,
    eval_budget: Optional[int] = None,
    allow_untrusted_plugins: bool = False,
) -> "pd.DataFrame":
    """The features of one case, as ``radx extract`` computes them, in a long table.

    ``radx.extract(image, mask, settings="params.yaml")`` is
    ``radx.Extractor("params.yaml").extract(image, mask)``; to extract many cases, make one
    ``Extractor`` and reuse it. See ``Extractor`` and ``Extractor.extract`` for the arguments.

    Returns:
        pandas.DataFrame: image_type, family, feature, tag, aggregation, value.
    """
    extractor = Extractor(
        settings,
        features=features,
        plugins=plugins,
        library=library,
        names=names,
        strict=strict,
        exclude_nonfinite=exclude_nonfinite,
        max_memory=max_memory,
        eval_budget=eval_budget,
        allow_untrusted_plugins=allow_untrusted_plugins,
    )
    return extractor.extract(
        image,
        mask,
        label=label,
        spacing=spacing,
        origin=origin,
        direction=direction,
        axes=axes,
        diagnostics=diagnostics,
        notes=notes,
        roi=roi,
        segment=segment,
        series=series,
    )


def map(
    image: Any,
    mask: Any,
    *,
    settings: Settings = None,
    features: Paths = None,
    plugins: Paths = None,
    library: Optional[str] = None,
    names: str = "radx",
    eval_budget: Optional[int] = None,
    allow_untrusted_plugins: bool = False,
    **options: Any,
) -> Dict[str, Any]:
    """Voxel-wise feature maps of one case, as ``radx map`` computes them.

    ``radx.map(image, mask, settings="params.yaml", radius=1)`` is
    ``radx.Extractor("params.yaml").map(image, mask, radius=1)``; see ``Extractor.map`` for
    the options. A PyRadiomics parameter file's ``voxelSetting`` gives the radius, masked
    kernel and init value unless the options say otherwise; ``names="pyradiomics"`` names
    the maps as PyRadiomics does (``original_glcm_JointEntropy``).
    """
    extractor = Extractor(
        settings,
        features=features,
        plugins=plugins,
        library=library,
        names=names,
        eval_budget=eval_budget,
        allow_untrusted_plugins=allow_untrusted_plugins,
    )
    return extractor.map(image, mask, **options)


class _Progress:
    """``radx batch: 3/10 cases`` on standard error, rewritten in place."""

    def __init__(self) -> None:
        self.stream = sys.stderr

    def __call__(self, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        self.stream.write(f"\rradx batch: {done}/{total} cases{end}")
        self.stream.flush()


def _case_list(cases: Any, folder: str) -> str:
    """The case list as a CSV file ``radx batch`` reads: the file itself, or a table written
    to ``folder`` with its image and mask paths made absolute."""
    if isinstance(cases, (str, os.PathLike)):
        path = os.fspath(cases)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: case list not found")
        return path
    import pandas as pd

    table = cases if isinstance(cases, pd.DataFrame) else pd.DataFrame(list(cases))
    table = table.copy()
    lower = {str(c).lower(): c for c in table.columns}
    for column in ("image", "mask"):
        if column not in lower:
            raise ValueError(
                f"cases: the table must have the columns image and mask (optionally id and label); "
                f"found {', '.join(str(column) for column in table.columns)}"
            )
        name = lower[column]
        for value in table[name]:
            if not isinstance(value, (str, os.PathLike)):
                raise TypeError(
                    f"cases: the {name} column must hold file paths, found {type(value).__name__} "
                    "(for images in memory, map Extractor.extract_row over them: see docs/python.md)"
                )
        table[name] = [os.path.abspath(os.fspath(v)) for v in table[name]]
    path = os.path.join(folder, "cases.csv")
    table.to_csv(path, index=False)
    return path


def _exact_floats() -> Dict[str, Any]:
    """read_csv's argument for floats that read back exactly (pandas 3 does by default)."""
    import pandas as pd

    return {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def _read_table(path: str, pyradiomics_layout: bool) -> "pd.DataFrame":
    import pandas as pd

    if path.endswith(".parquet"):
        table = pd.read_parquet(path)
    elif path.endswith(".jsonl"):
        table = pd.read_json(path, lines=True, dtype={"id": str, "error": str}, precise_float=True)
        table = table.replace({"inf": float("inf"), "-inf": float("-inf")})
    elif pyradiomics_layout:
        return pd.read_csv(path, **_exact_floats())
    else:
        table = pd.read_csv(path, dtype={"id": str, "status": str, "error": str}, **_exact_floats())
    table["error"] = table["error"].fillna("")
    table["label"] = table["label"].astype("Int64")
    return table


def batch(
    cases: Any,
    *,
    settings: Settings = None,
    features: Paths = None,
    plugins: Paths = None,
    library: Optional[str] = None,
    names: str = "radx",
    jobs: Optional[int] = None,
    progress: Union[bool, Callable[[int, int], None]] = True,
    label: Optional[int] = None,
    all_labels: bool = False,
    output: Optional[PathLike] = None,
    strict: bool = False,
    exclude_nonfinite: bool = False,
    max_memory: Union[int, str, None] = None,
    eval_budget: Optional[int] = None,
    allow_untrusted_plugins: bool = False,
    resume: bool = False,
) -> "pd.DataFrame":
    """A cohort in one wide table, as ``radx batch`` writes it (the same code).

    Args:
        cases: a case list CSV (``id,image,mask[,label]`` or PyRadiomics'
            ``Image,Mask[,Label]``; relative paths relative to its folder), or a pandas
            DataFrame (or list of dicts) with those columns (relative paths relative to the
            working folder).
        settings, features, plugins, library, names, strict, exclude_nonfinite, max_memory,
        eval_budget, allow_untrusted_plugins: as for ``Extractor``.
        jobs: worker threads (default: every core).
        progress: print ``radx batch: done/total cases`` on standard error; or a callable
            ``progress(done, total)``; ``False`` for nothing.
        label: the ROI label (default: the settings'); a case's label column overrides it.
        all_labels: one row per non-zero label of each mask.
        output: also keep the table in this file (``.csv``, ``.jsonl`` or ``.parquet``).
        resume: continue a batch into ``output`` that was killed or had failed cases, as
            ``radx batch --resume``: cases with only ``ok`` rows in ``output`` or its journal
            (``output.partial.jsonl``) are kept, the others run; a journal written with other
            settings, feature files, plugins or names is an error saying what changed.
            Needs ``output``.

    Returns:
        pandas.DataFrame: ``id, label, status, error``, then one column per feature
        (``family.feature[.aggregation]``); with ``names="pyradiomics"`` and a CSV,
        PyRadiomics' batch layout (case-list columns, ``diagnostics_*``, features).
        A failed case is a row with ``status == "error"`` (and a ``RadxWarning``).
    """
    extractor = Extractor(
        settings,
        features=features,
        plugins=plugins,
        library=library,
        names=names,
        strict=strict,
        exclude_nonfinite=exclude_nonfinite,
        max_memory=max_memory,
        eval_budget=eval_budget,
        allow_untrusted_plugins=allow_untrusted_plugins,
    )
    if resume and output is None:
        raise ValueError("resume=True continues a batch into its output file: give output=")
    if progress is True:
        callback: Optional[Callable[[int, int], None]] = _Progress()
    elif progress is False or progress is None:
        callback = None
    elif callable(progress):
        callback = progress
    else:
        raise TypeError("progress must be True, False or a callable progress(done, total)")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="radx-batch-") as folder:
        case_list = _case_list(cases, folder)
        path = os.fspath(output) if output is not None else os.path.join(folder, "features.csv")
        total, ok, failed, failures = _radx.batch(
            extractor._native, case_list, path, jobs, label, all_labels, callback, resume
        )
        pyradiomics_layout = extractor._native.pyradiomics_names and path.endswith(".csv")
        table = _read_table(path, pyradiomics_layout)
    if failures:
        shown = "; ".join(
            f"{case_id}{'' if lbl is None else f' label {lbl}'}: {why}" for case_id, lbl, why in failures[:5]
        )
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        _warn([f"radx batch: {failed} of {ok + failed} rows failed (status column): {shown}{more}"], stacklevel=2)
    return table


def _as_table(columns: Mapping[str, Any]) -> "pd.DataFrame":
    import pandas as pd

    return pd.DataFrame(dict(columns))


def features(library: str = "ibsi", *, features: Paths = None, plugins: Paths = None) -> "pd.DataFrame":
    """The feature library as a table (``radx features list``): family, feature, tag, origin
    (the ``.radx`` file or plugin) and doc (its documentation), with the extra ``features``
    files and the ``plugins``' features. ``library``: ``"ibsi"`` or ``"pyradiomics"``."""
    return _as_table(_radx.features(library, _paths(features), _paths(plugins)))


def check(path_or_text: Union[PathLike, str], *, plugins: Paths = None) -> "pd.DataFrame":
    """Compile a feature file (or a folder of them, or feature-language text) as ``radx
    check`` does; returns its features (family, feature, tag).

    A ``str`` that names an existing file or folder, or ends in ``.radx``, is a path; any
    other ``str`` is the text itself.

    Raises:
        ValueError: it does not compile (radx's diagnostics: file, line, column, what to do).
        FileNotFoundError: the file does not exist.
    """
    value = path_or_text
    is_path = isinstance(value, os.PathLike) or (
        isinstance(value, str) and "\n" not in value and (os.path.exists(value) or value.endswith(".radx"))
    )
    if is_path:
        return _as_table(_radx.check(os.fspath(value), None, _paths(plugins)))
    if not isinstance(value, str):
        raise TypeError(f"check: expected a path or feature-language text, got {type(value).__name__}")
    return _as_table(_radx.check(None, value, _paths(plugins)))


def _default_ct_dir() -> str:
    return os.environ.get("RADX_CT_PHANTOM", os.path.join("tests", "data", "ibsi", "ct_phantom"))


def ibsi(phantom: str = "all", *, configs: str = "A,B,C,D,E", ct_dir: Optional[PathLike] = None) -> "pd.DataFrame":
    """The IBSI compliance report (``radx ibsi``) as a table: data, config, family, feature,
    tag, aggregation, value, reference, tolerance, pass (None where the IBSI gives no
    reference value).

    Args:
        phantom: ``"digital"`` (embedded in radx), ``"ct"`` or ``"all"``.
        configs: the CT phantom's configurations.
        ct_dir: the IBSI CT phantom's folder (``image.nii.gz``, ``mask.nii.gz``); default
            ``RADX_CT_PHANTOM``, else ``tests/data/ibsi/ct_phantom`` under the working folder.
    """
    folder = None
    if phantom in ("ct", "all"):
        folder = os.fspath(ct_dir) if ct_dir is not None else _default_ct_dir()
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"{folder}: no such folder; give ct_dir, the IBSI CT phantom's folder "
                '(tests/data/ibsi/ct_phantom in radx\'s repository), or phantom="digital"'
            )
    return _as_table(_radx.ibsi(phantom, configs, folder))
