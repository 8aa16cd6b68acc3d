from os import PathLike
from typing import Any, Mapping, Optional, Sequence, Union

from typing_extensions import final

_Path = Union[str, "PathLike[str]"]

__version__: str
__all__ = [
    "Diagnostic",
    "Pack",
    "Registry",
    "Report",
    "__version__",
    "build_archive",
    "load_pack",
    "rules",
    "validate",
    "validate_profile",
]

@final
class Diagnostic:
    code: str
    name: str
    severity: str
    message: str
    file: str
    pointer: str
    line: Optional[int]
    column: Optional[int]
    end_line: Optional[int]
    end_column: Optional[int]
    help: Optional[str]
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Report:
    kind: str
    path: str
    name: Optional[str]
    version: Optional[str]
    layer: Optional[str]
    archive_root: Optional[str]
    config: Optional[str]
    diagnostics: list[Diagnostic]
    def count(self, severity: str) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Pack:
    name: Optional[str]
    version: Optional[str]
    layer: Optional[str]
    display_name: Optional[str]
    manifest: dict[str, Any]
    values: Any
    path: str

@final
class Registry:
    def __new__(
        cls,
        url: _Path,
        *,
        username: Optional[str] = None,
        password: Optional[str] = None,
        insecure: bool = False,
        plain_http: bool = False,
        ca_file: Optional[_Path] = None,
    ) -> Registry: ...
    @property
    def location(self) -> str: ...
    def ping(self) -> None: ...
    def push(self, path: _Path, *, force: bool = False, validate: bool = True) -> str: ...
    def pull(self, ref: str, dest: _Path, *, archive: bool = False, overwrite: bool = False) -> str: ...
    def list(self, name: Optional[str] = None) -> list[dict[str, Any]]: ...
    def delete(self, ref: str) -> None: ...
    def tag(self, ref: str, new_tag: str, *, force: bool = False) -> None: ...
    def inspect(self, ref: str) -> dict[str, Any]: ...

def load_pack(path: _Path) -> Pack: ...
def validate(
    path: _Path,
    *,
    select: Optional[Sequence[str]] = None,
    extend_select: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    severity: Optional[Mapping[str, str]] = None,
    config: Optional[_Path] = None,
    isolated: bool = False,
) -> list[Report]: ...
def validate_profile(
    path: _Path,
    packs: Optional[Sequence[_Path]] = None,
    *,
    select: Optional[Sequence[str]] = None,
    extend_select: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    severity: Optional[Mapping[str, str]] = None,
    config: Optional[_Path] = None,
    isolated: bool = False,
) -> Report: ...
def build_archive(pack_dir: _Path, out: _Path, *, validate: bool = True) -> str: ...
def rules() -> list[dict[str, Any]]: ...
