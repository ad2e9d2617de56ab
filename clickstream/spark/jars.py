"""The Delta Lake jars: pinned in ``jvm-deps.lock``, fetched once by setup, used offline after.

Input: ``clickstream/spark/jvm-deps.lock`` (Maven coordinates and sha256 of each jar) and the jars folder
(``$CLICKSTREAM_JARS_DIR``, default ``<home>/.jars`` (``clickstream config`` shows it)). Output: the jar paths Spark gets through
``spark.jars`` / ``--jars``, or a one-line ``SetupError`` that says to run the setup command.

``python -m clickstream.spark.jars`` fetches what is missing with Maven and checks every checksum; it
does nothing when the jars are already there and verified.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from clickstream.core.config import home_dir
from clickstream.core.errors import SetupError, run_entry_point

LOCK_FILE = Path(__file__).with_name("jvm-deps.lock")
JARS_DIR_ENV = "CLICKSTREAM_JARS_DIR"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


@dataclass(frozen=True)
class JarSpec:
    """One pinned jar: Maven coordinate parts and the sha256 of the file."""

    group: str
    artifact: str
    version: str
    sha256: str

    @property
    def coordinate(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"

    @property
    def filename(self) -> str:
        return f"{self.artifact}-{self.version}.jar"


def load_lock(lock_file: Path = LOCK_FILE) -> list[JarSpec]:
    """Parse the lock file: one ``group:artifact:version  sha256`` a line, ``#`` comments."""
    specs = []
    for raw_line in lock_file.read_text().splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        coordinate, sha256 = line.split()
        group, artifact, version = coordinate.split(":")
        specs.append(JarSpec(group, artifact, version, sha256))
    return specs


def jars_dir() -> Path:
    """The folder that holds the jars: ``$CLICKSTREAM_JARS_DIR`` or ``<home>/.jars`` (``clickstream config`` shows it)."""
    return Path(os.environ.get(JARS_DIR_ENV) or home_dir() / ".jars").absolute()


def delta_coordinate_for_installed_packages() -> str:
    """The delta-spark coordinate computed as ``delta/pip_utils.py`` does from installed versions."""
    spark_minor = ".".join(metadata.version("pyspark").split(".")[:2])
    return f"io.delta:delta-spark_{spark_minor}_2.13:{metadata.version('delta-spark')}"


def setup_command() -> str:
    """How this installation fetches the jars: ``make setup`` in a checkout, else the module."""
    if (home_dir() / "Makefile").is_file():
        return "make setup"
    return "python -m clickstream.spark.jars"


def required_jars(directory: Path | None = None) -> list[Path]:
    """Paths of every pinned jar; raise ``SetupError`` (one line) if any is missing."""
    directory = directory or jars_dir()
    paths = [directory / spec.filename for spec in load_lock()]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise SetupError(
            f"Delta Lake jars missing from {directory} ({', '.join(missing)}): "
            f"run `{setup_command()}` once to fetch them"
        )
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_verified(spec: JarSpec, directory: Path) -> bool:
    path = directory / spec.filename
    return path.is_file() and sha256_of(path) == spec.sha256


def fetch_with_maven(spec: JarSpec, directory: Path) -> None:
    """Copy one artifact from Maven Central (through the local Maven repository) into ``directory``."""
    if shutil.which("mvn") is None:
        raise SetupError("Maven (mvn) is needed once to fetch the Delta Lake jars; install it")
    command = [
        "mvn", "-q", "-B", f"{MAVEN_DEPENDENCY_PLUGIN}:copy",
        f"-Dartifact={spec.coordinate}", f"-DoutputDirectory={directory}",
        "-Dmdep.overWriteReleases=true",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise SetupError(f"Maven could not fetch {spec.coordinate}: {' | '.join(tail)}")


def ensure_jars(directory: Path | None = None) -> list[Path]:
    """Fetch every missing or corrupt jar, verify all checksums, return the jar paths."""
    directory = directory or jars_dir()
    directory.mkdir(parents=True, exist_ok=True)
    for spec in load_lock():
        if is_verified(spec, directory):
            print(f"ok       {spec.filename}")
            continue
        print(f"fetching {spec.coordinate} ...", flush=True)
        fetch_with_maven(spec, directory)
        if not is_verified(spec, directory):
            (directory / spec.filename).unlink(missing_ok=True)
            raise SetupError(f"checksum mismatch for {spec.filename}: expected {spec.sha256}")
        print(f"ok       {spec.filename} (sha256 verified)")
    return required_jars(directory)


def main() -> int:
    expected = delta_coordinate_for_installed_packages()
    pinned = [spec.coordinate for spec in load_lock()]
    if expected not in pinned:
        raise SetupError(
            f"installed pyspark/delta-spark need {expected}, but {LOCK_FILE} pins {pinned}"
        )
    ensure_jars()
    return 0


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
