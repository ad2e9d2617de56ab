"""Airflow for the DAG tests: a throwaway AIRFLOW_HOME, set before anything imports airflow."""

from __future__ import annotations

import os
import tempfile

import pytest

from clickstream.core import config

DAGS_FOLDER = config.DAGS_DIR

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="clickstream-airflow-home-")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))
