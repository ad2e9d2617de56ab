"""One place for every setting: the lakehouse paths and the Spark settings.

Input: command-line flags (``--data-dir``, ``--raw-dir``, ...), environment variables
(``CLICKSTREAM_*``) and the defaults below. Output: frozen ``LakehousePaths`` and ``SparkSettings``.

Precedence for every value: flag, then environment variable, then default. Every path but the data
root defaults to a folder under the data root, so moving the root moves everything.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from clickstream.core.errors import ClickstreamError

DATA_DIR_ENV = "CLICKSTREAM_DATA_DIR"
DEFAULT_DATA_DIR = "./data"


@dataclass(frozen=True)
class PathSetting:
    """One overridable lakehouse path: its name, variable, default under the root and meaning."""

    name: str
    env: str
    default_subdir: str
    meaning: str

    @property
    def flag(self) -> str:
        return f"--{self.name.replace('_', '-')}-dir"


PATH_SETTINGS: tuple[PathSetting, ...] = (
    PathSetting("raw", "CLICKSTREAM_RAW_DIR", "raw/events", "JSON-lines files landed by the generator"),
    PathSetting("archive", "CLICKSTREAM_ARCHIVE_DIR", "raw/archive", "raw files moved away after bronze read them"),
    PathSetting("bronze", "CLICKSTREAM_BRONZE_DIR", "bronze/events", "Delta table: every raw line plus ingestion metadata"),
    PathSetting("silver", "CLICKSTREAM_SILVER_DIR", "silver/events", "Delta table: validated, typed, deduplicated events"),
    PathSetting("quarantine", "CLICKSTREAM_QUARANTINE_DIR", "quarantine/events", "Delta table: rows that failed validation, with reasons"),
    PathSetting("gold", "CLICKSTREAM_GOLD_DIR", "gold", "one Delta table per SQL model, in a folder named after it"),
    PathSetting("checkpoints", "CLICKSTREAM_CHECKPOINTS_DIR", "checkpoints", "one streaming checkpoint per job or model"),
    PathSetting("metrics", "CLICKSTREAM_METRICS_DIR", "metrics", "per-batch streaming progress as JSON lines"),
)  # fmt: skip


@dataclass(frozen=True)
class LakehousePaths:
    """Absolute paths of every layer of the lakehouse."""

    root: Path
    raw: Path
    archive: Path
    bronze: Path
    silver: Path
    quarantine: Path
    gold: Path
    checkpoints: Path
    metrics: Path

    def checkpoint(self, name: str) -> Path:
        """Checkpoint folder of one streaming job or gold model."""
        return self.checkpoints / name

    def gold_table(self, model: str) -> Path:
        """Delta table folder of one gold model."""
        return self.gold / model


def resolve_paths(
    overrides: Mapping[str, str | os.PathLike | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LakehousePaths:
    """Resolve every path from overrides (``{"root": ..., "raw": ...}``), the environment and defaults.

    Relative paths are made absolute against the current directory, once, here.
    """
    overrides = overrides or {}
    environ = os.environ if environ is None else environ
    root_value = overrides.get("root") or environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    root = Path(root_value).expanduser().absolute()
    resolved = {}
    for setting in PATH_SETTINGS:
        value = overrides.get(setting.name) or environ.get(setting.env)
        resolved[setting.name] = (
            Path(value).expanduser().absolute() if value else root / setting.default_subdir
        )
    return LakehousePaths(root=root, **resolved)


def add_path_arguments(parser: argparse.ArgumentParser, only: Sequence[str] | None = None) -> None:
    """Add ``--data-dir`` and one ``--<name>-dir`` flag per lakehouse path to ``parser``; with
    ``only`` (names of ``PATH_SETTINGS``), just those beside ``--data-dir``."""
    group = parser.add_argument_group("lakehouse paths")
    group.add_argument(
        "--data-dir",
        dest="path_root",
        metavar="DIR",
        help=f"data root (env {DATA_DIR_ENV}, default {DEFAULT_DATA_DIR})",
    )
    for setting in PATH_SETTINGS:
        if only is not None and setting.name not in only:
            continue
        group.add_argument(
            setting.flag,
            dest=f"path_{setting.name}",
            metavar="DIR",
            help=f"{setting.meaning} (env {setting.env}, default <data-dir>/{setting.default_subdir})",
        )


def paths_from_args(args: argparse.Namespace) -> LakehousePaths:
    """Resolve paths from a namespace parsed by a parser given ``add_path_arguments``."""
    names = ["root", *(setting.name for setting in PATH_SETTINGS)]
    return resolve_paths({name: getattr(args, f"path_{name}", None) for name in names})


def path_flags_given(args: argparse.Namespace) -> list[str]:
    """The path flags set on the command line, as absolute paths, to hand on to a child job."""
    flags = [("--data-dir", getattr(args, "path_root", None))]
    flags += [(s.flag, getattr(args, f"path_{s.name}", None)) for s in PATH_SETTINGS]
    return [part for flag, value in flags if value for part in (flag, str(Path(value).absolute()))]


@dataclass(frozen=True)
class SparkSettings:
    """How every Spark session of the product is built (see ``clickstream.spark.session``)."""

    master: str = "local[*]"
    shuffle_partitions: int = 4
    driver_memory: str = "2g"
    ui_enabled: bool = False
    java_options: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SparkSettings:
        """Read ``CLICKSTREAM_SPARK_MASTER``, ``..._SHUFFLE_PARTITIONS``, ``..._DRIVER_MEMORY``,
        ``..._UI`` and ``..._JAVA_OPTIONS`` (extra options of the driver and executor JVMs)."""
        environ = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            master=environ.get("CLICKSTREAM_SPARK_MASTER", defaults.master),
            shuffle_partitions=positive_int(
                environ, "CLICKSTREAM_SPARK_SHUFFLE_PARTITIONS", defaults.shuffle_partitions
            ),
            driver_memory=environ.get("CLICKSTREAM_SPARK_DRIVER_MEMORY", defaults.driver_memory),
            ui_enabled=environ.get("CLICKSTREAM_SPARK_UI", "0").lower() in {"1", "true", "yes"},
            java_options=environ.get("CLICKSTREAM_SPARK_JAVA_OPTIONS", defaults.java_options),
        )


def positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    """``environ[name]`` as a whole number above 0, else ``default``; anything else is one line."""
    text = environ.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ClickstreamError(f"{name}={text!r}: expected a whole number above 0")
    return value


PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The package: its Spark jobs, its DAGs and the shipped SQL project are found through it."""
SPARK_JOBS_DIR = PACKAGE_DIR / "spark_jobs"
DAGS_DIR = PACKAGE_DIR / "dags"
SQL_DIR_ENV = "CLICKSTREAM_SQL_DIR"
DEFAULT_SQL_DIR = PACKAGE_DIR / "sql"
HOME_ENV = "CLICKSTREAM_HOME"


def home_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where setup and the local services keep their files (jars, the local Airflow, bench results):
    ``$CLICKSTREAM_HOME``, else the source checkout the package runs from, else ``~/.clickstream``."""
    environ = os.environ if environ is None else environ
    if environ.get(HOME_ENV):
        return Path(environ[HOME_ENV]).expanduser().absolute()
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout
    return Path.home() / ".clickstream"


def sql_project_dir(
    value: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The SQL project folder: ``value``, else ``$CLICKSTREAM_SQL_DIR``, else the project shipped in the package."""
    environ = os.environ if environ is None else environ
    chosen = value or environ.get(SQL_DIR_ENV) or DEFAULT_SQL_DIR
    return Path(chosen).expanduser().absolute()
