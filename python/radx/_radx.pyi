"""Type stubs of radx's extension module (``radx._radx``, built from python/src). The
public API is in ``radx`` (``radx/_api.py``); these are its building blocks."""

from os import PathLike
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, TypeVar, Union, final

import numpy as np
import numpy.typing as npt

__version__: str

_Path = Union[str, PathLike[str]]
_Source = Union[_Path, "Volume"]
_V = TypeVar("_V", bound="Volume")

class Volume:
    """An image or label map in memory: a numpy array read in place, indexed [x, y, z] on a grid in LPS."""

    def __new__(
        cls: Type[_V],
        array: npt.NDArray[Any],
        spacing: Sequence[float],
        origin: Sequence[float],
        direction: Sequence[float],
        axes: str = "xyz",
        name: str = "array",
        owner: Any = None,
    ) -> _V: ...
    @property
    def shape(self) -> Tuple[int, int, int]: ...
    @property
    def spacing(self) -> Tuple[float, float, float]: ...
    @property
    def origin(self) -> Tuple[float, float, float]: ...
    @property
    def direction(self) -> List[float]: ...
    def to_numpy(self, axes: str = "xyz") -> npt.NDArray[np.float64]: ...

@final
class Extractor:
    """Settings, feature files and plugins compiled once (see ``radx.Extractor``)."""

    def __new__(
        cls,
        settings: Optional[_Path] = None,
        settings_text: Optional[str] = None,
        text_name: Optional[str] = None,
        features: Sequence[_Path] = ...,
        plugins: Sequence[_Path] = ...,
        library: Optional[str] = None,
        names: str = "radx",
        strict: bool = False,
        exclude_nonfinite: bool = False,
        max_memory: Union[int, str, None] = None,
        eval_budget: Optional[int] = None,
        allow_untrusted_plugins: bool = False,
    ) -> Extractor: ...
    @property
    def warnings(self) -> List[str]: ...
    @property
    def label(self) -> int: ...
    @property
    def pyradiomics_names(self) -> bool: ...
    def extract(
        self,
        image: _Source,
        mask: _Source,
        label: Optional[int] = None,
        diagnostics: bool = False,
        roi: Optional[str] = None,
        segment: Optional[str] = None,
        series: Optional[str] = None,
    ) -> Dict[str, Any]: ...
    def extract_row(
        self,
        image: _Source,
        mask: _Source,
        label: Optional[int] = None,
        roi: Optional[str] = None,
        segment: Optional[str] = None,
        series: Optional[str] = None,
    ) -> Tuple[int, List[str], npt.NDArray[np.float64]]: ...
    def pyradiomics_diagnostics(
        self, image: _Source, mask: _Source, label: Optional[int] = None
    ) -> List[Tuple[str, str]]: ...
    def map(
        self,
        image: _Source,
        mask: _Source,
        label: Optional[int] = None,
        roi: Optional[str] = None,
        segment: Optional[str] = None,
        series: Optional[str] = None,
        radius: Optional[int] = None,
        sphere_mm: Optional[float] = None,
        masked: Optional[bool] = None,
        init_value: Optional[float] = None,
        families: List[str] = ...,
    ) -> Tuple[
        List[str],
        List[npt.NDArray[np.float64]],
        Tuple[Tuple[float, float, float], Tuple[float, float, float], List[float]],
    ]: ...
    def feature_names(
        self, image: Optional[_Source] = None, mask: Optional[_Source] = None, label: Optional[int] = None
    ) -> List[str]: ...
    def _bench_extract(
        self, image: _Source, mask: _Source, label: Optional[int] = None, repeat: int = 10
    ) -> List[float]: ...

def batch(
    extractor: Extractor,
    cases: _Path,
    output: _Path,
    jobs: Optional[int] = None,
    label: Optional[int] = None,
    all_labels: bool = False,
    progress: Optional[Callable[[int, int], Any]] = None,
    resume: bool = False,
) -> Tuple[int, int, int, List[Tuple[str, Optional[int], str]]]: ...
def features(
    library: str = "ibsi", features: Sequence[_Path] = ..., plugins: Sequence[_Path] = ...
) -> Dict[str, List[str]]: ...
def check(
    path: Optional[_Path] = None, text: Optional[str] = None, plugins: Sequence[_Path] = ...
) -> Dict[str, List[str]]: ...
def ibsi(phantom: str = "all", configs: str = "A,B,C,D,E", ct_dir: Optional[_Path] = None) -> Dict[str, Any]: ...
def yaml_to_json(text: str) -> str: ...
def _synthetic_case(
    dims: Tuple[int, int, int], roi_voxels: float
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
