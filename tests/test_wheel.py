"""The package works installed, not only from this checkout: a wheel built from the tree, installed
into an empty venv (offline, from the dependency cache setup filled), runs the CLI with its Spark
jobs, DAGs and SQL project found through the package."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from clickstream.spark.jars import jars_dir

REPO = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``bin`` folder of an empty venv with only the built wheel (and its dependencies)."""
    work = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [UV, "build", "--wheel", "--offline", "-q", "-o", work / "dist", REPO],
        check=False,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (work / "dist").glob("clickstream-*.whl")
    venv = work / "venv"
    subprocess.run([UV, "venv", "-q", "--python", sys.executable, venv], check=True)
    install = subprocess.run(
        [UV, "pip", "install", "-q", "--offline", "--python", venv / "bin" / "python", wheel],
        check=False,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    return venv / "bin"


def run(bin_dir: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed CLI, from a folder outside the checkout, with nothing of this venv's env."""
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(cwd),
        "JAVA_HOME": os.environ.get("JAVA_HOME", ""),
        # The jars are configuration: the installation's own home has none until it fetches them.
        "CLICKSTREAM_JARS_DIR": str(jars_dir()),
    }
    return subprocess.run(
        [bin_dir / "clickstream", *argv],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


def test_the_wheel_carries_the_jobs_the_dags_and_the_sql_project():
    # What the package finds through itself must be package data, not checkout files.
    from clickstream.core.config import DAGS_DIR, DEFAULT_SQL_DIR, SPARK_JOBS_DIR

    for folder in (DAGS_DIR, DEFAULT_SQL_DIR, SPARK_JOBS_DIR):
        assert folder.is_relative_to(REPO / "clickstream"), folder


def test_an_installed_wheel_runs_version_sql_list_and_submit_print(installed, tmp_path):
    [wheel] = (installed.parents[1] / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for member in (
        "clickstream/sql/project.yml",
        "clickstream/dags/clickstream_streaming.py",
        "clickstream/spark_jobs/bronze_job.py",
        "clickstream/spark/jvm-deps.lock",
    ):
        assert member in names, member

    version = run(installed, "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip().startswith("clickstream ")

    models = run(installed, "sql", "list", "--json", cwd=tmp_path)
    assert models.returncode == 0, models.stderr
    site = installed.parent / "lib"
    assert str(site) in models.stdout, "the SQL project is the one shipped in the wheel"
    from clickstream.sql_models import load_project

    for name in load_project().models:
        assert name in models.stdout

    submit = run(installed, "submit", "bronze", "--print", cwd=tmp_path)
    assert submit.returncode == 0, submit.stderr
    command = shlex.split(submit.stdout.strip())
    assert command[0] == str(installed / "spark-submit")
    application = next(Path(part) for part in command if part.endswith("bronze_job.py"))
    assert application.is_file() and application.is_relative_to(site)
    assert not any(str(REPO) in part for part in command if "jars" not in part)
