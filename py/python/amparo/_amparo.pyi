"""Type stubs of the compiled extension (see amparo/__init__.py for the public API)."""

from os import PathLike
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from typing_extensions import final

__version__: str
__all__ = [
    "__version__",
    "AmparoError",
    "PolicyError",
    "SchemaError",
    "HierarchyError",
    "DataError",
    "InfeasibleError",
    "AmparoIOError",
    "Policy",
    "protect",
    "validate",
    "protect_tables",
    "audit_report",
    "explain",
    "AuditReportCore",
    "read_table",
    "write_table",
    "policy_json_schema",
    "add_record_keys",
    "add_record_keys_to_file",
    "aggregate_partials",
    "merge_partials",
    "protect_partials",
    "output_schema",
    "write_synth",
    "publish",
]

class AmparoError(Exception): ...
class PolicyError(AmparoError): ...
class SchemaError(AmparoError): ...
class HierarchyError(AmparoError): ...
class DataError(AmparoError): ...
class InfeasibleError(AmparoError): ...
class AmparoIOError(AmparoError): ...

@final
class Policy:
    @staticmethod
    def from_file(path: Union[str, PathLike[str]]) -> Policy: ...
    @staticmethod
    def from_toml(text: str, base_dir: Optional[Union[str, PathLike[str]]] = None) -> Policy: ...
    @staticmethod
    def from_dict(policy: Dict[str, Any], base_dir: Optional[Union[str, PathLike[str]]] = None) -> Policy: ...
    def to_toml(self) -> str: ...
    def check_group_columns(self, by: List[str], input_columns: List[str]) -> None: ...
    def __reduce__(self) -> Tuple[Any, Tuple[str, str]]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def with_overrides(self, **sections: Any) -> Policy: ...
    def for_method(self, method: str, /, **options: Any) -> Policy: ...
    @property
    def sha256(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def dimensions(self) -> List[str]: ...
    @property
    def input_columns(self) -> List[str]: ...

def protect(data: Any, policy: Policy, keep_original: bool = False, progress: Optional[Callable[[str, int, Optional[int]], Any]] = None) -> Tuple[Any, str]: ...
def validate(data: Any, policy: Policy, progress: Optional[Callable[[str, int, Optional[int]], Any]] = None) -> str: ...
def protect_tables(data: Any, policy: Policy, keep_original: bool = False, progress: Optional[Callable[[str, int, Optional[int]], Any]] = None) -> List[Tuple[str, Any]]: ...
def audit_report(
    data: List[Any],
    names: List[str],
    policy: Policy,
    value_column: Optional[str] = None,
    hidden_symbols: Optional[List[str]] = None,
    lang: Optional[str] = None,
    progress: Optional[Callable[[str, int, Optional[int]], Any]] = None,
) -> AuditReportCore: ...

@final
class AuditReportCore:
    def render(self, format: str) -> str: ...
    def to_markdown(self) -> str: ...

def explain(
    data: List[Any],
    names: List[str],
    policy: Policy,
    cell: str,
    value_column: Optional[str] = None,
    hidden_symbols: Optional[List[str]] = None,
    lang: Optional[str] = None,
) -> str: ...
def read_table(path: Union[str, PathLike[str]]) -> Any: ...
def write_table(data: Any, path: Union[str, PathLike[str]]) -> None: ...
def policy_json_schema() -> str: ...
def add_record_keys(data: Any, column: str = "record_key", seed: Optional[int] = None) -> Any: ...
def add_record_keys_to_file(
    input: Union[str, PathLike[str]],
    output: Union[str, PathLike[str]],
    column: str = "record_key",
    seed: Optional[int] = None,
    overwrite: bool = False,
) -> str: ...
def aggregate_partials(data: Any, policy: Policy) -> Any: ...
def merge_partials(data: Any, policy: Policy) -> Any: ...
def protect_partials(
    data: Any, policy: Policy, keep_original: bool = False, progress: Optional[Callable[[str, int, Optional[int]], Any]] = None
) -> Tuple[Any, str]: ...
def output_schema(policy: Policy, keep_original: bool = False) -> Any: ...
def write_synth(
    path: Union[str, PathLike[str]],
    records: int,
    mode: str,
    seed: int,
    countries: List[str],
    years: int,
    first_year: int,
    overwrite: bool = False,
) -> int: ...
def publish(
    tables: List[Union[str, PathLike[str], Any]],
    metadata: List[Dict[str, str]],
    policy: Policy,
    path: Optional[str] = None,
    layout: Optional[str] = None,
    format: Optional[str] = None,
    overwrite: bool = False,
) -> List[Any]: ...
