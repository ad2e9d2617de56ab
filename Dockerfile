# syntax=docker/dockerfile:1
# One image for every service of docker-compose.yml but PostgreSQL: the Airflow components, the
# Spark master and workers (the Spark inside the pinned pyspark) and the generator.
#
# Why python:3.11-slim-bookworm plus Debian's OpenJDK 17, and not apache/airflow:3.3.2-python3.11:
# the project's environment is exactly requirements.lock, installed by `make setup` (uv pip sync),
# the same on a laptop, in CI and here. The Airflow image ships its own constraint set (which a
# sync would have to strip) and no Java; Spark needs Java 17, which Debian bookworm packages (the
# JVM the project is tested on). Two stages: Maven and the build tools stay out of the final image.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the venv from requirements.lock and the checksum-verified Delta jars (`make setup`) ---
FROM ${PYTHON_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends make maven openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/clickstream
# What `make setup` reads: the lock, the project metadata and the package (editable install, jars lock).
COPY Makefile pyproject.toml requirements.lock README.md ./
COPY clickstream/ clickstream/
RUN make setup PYTHON=python3.11 && rm -rf /root/.m2 /root/.cache

# --- runtime ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# curl: the services' healthchecks. The JRE runs Spark (master, workers, executors, drivers).
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless curl \
    && rm -rf /var/lib/apt/lists/*
# Group 0, as the official Airflow image does, so an arbitrary runtime uid can still write.
RUN useradd --uid 50000 --gid 0 --create-home --home-dir /home/clickstream clickstream
# The venv is editable-installed against /opt/clickstream: it must keep that path.
COPY --from=build --chown=clickstream:0 /opt/clickstream /opt/clickstream
# Mount points owned by the service user: a fresh named volume takes this ownership.
RUN mkdir -p /data /opt/airflow/dags /opt/airflow/logs /opt/airflow/auth /opt/spark-work \
    && chown -R clickstream:0 /data /opt/airflow /opt/spark-work \
    && chmod -R g+w /data /opt/airflow /opt/spark-work
ENV PATH=/opt/clickstream/.venv/bin:${PATH} \
    SPARK_HOME=/opt/clickstream/.venv/lib/python3.11/site-packages/pyspark \
    CLICKSTREAM_DATA_DIR=/data \
    AIRFLOW_HOME=/opt/airflow \
    PYTHONUNBUFFERED=1
USER clickstream
WORKDIR /opt/clickstream
CMD ["clickstream", "--help"]
