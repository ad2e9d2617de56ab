"""docker-compose.yml, .env.example and the Dockerfile, checked without Docker and offline.

The compose file is interpolated from ``.env.example`` alone (as ``docker compose --env-file
.env.example config`` does), then validated against the Compose Specification schema that Docker
Compose v2.40.3 embeds (``tests/data/compose-spec.json``; source in ``tests/data/README.md``). On top
of the schema: every program a service runs exists and takes its arguments (``clickstream`` and
``airflow`` through their own parsers, ``spark-class`` against the installed Spark), Airflow starts
with the file's settings, mounted host paths exist, every variable is documented, services wait for
healthy dependencies, and no secret is written in the file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import shlex
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from dotenv import dotenv_values

from clickstream.cli import parse_arguments
from clickstream.spark.submit import spark_home

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "Dockerfile"
SCHEMA = REPO / "tests" / "data" / "compose-spec.json"
VENV_BIN = Path(sys.executable).parent  # the image puts its venv's bin first on PATH too

# $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $VAR; a bare $ is invalid.
REFERENCE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?])([^}$]*))?\}|(\w+))?")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|(^|_)KEY$")
REQUIRED = re.compile(r"\$\{(\w+):\?[^}]+\}")
# The durations compose parses (Go's time.ParseDuration): 30s, 1m30s, 500ms.
GO_DURATION = re.compile(r"(\d+(\.\d+)?(ns|us|ms|s|m|h))+")
SHELL_SEPARATORS = ";&|\n"
# Programs the services run besides the venv's: curl (installed by the Dockerfile), find and grep
# (Debian base image), pg_isready (postgres image).
OTHER_PROGRAMS = {"curl", "find", "grep", "pg_isready"}
SPARK_DAEMONS = {
    "org.apache.spark.deploy.master.Master": "org.apache.spark.deploy.master.MasterArguments",
    "org.apache.spark.deploy.worker.Worker": "org.apache.spark.deploy.worker.WorkerArguments",
}


class InterpolationError(ValueError):
    pass


def interpolate(text: str, env: Mapping[str, str], used: set[str]) -> str:
    """Compose's variable substitution, for the forms listed at ``REFERENCE``."""

    def replace(match: re.Match) -> str:
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        name = name or bare
        if not name:
            raise InterpolationError(f"invalid interpolation format in {text!r}")
        used.add(name)
        value = env.get(name)
        present = bool(value) if operator and operator.startswith(":") else value is not None
        if operator and operator.endswith("?") and not present:
            raise InterpolationError(f"required variable {name} is missing a value: {argument}")
        if operator and operator.endswith("-") and not present:
            return argument
        return value or ""

    return REFERENCE.sub(replace, text)


def interpolate_tree(node: Any, env: Mapping[str, str], used: set[str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env, used)
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env, used) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(item, env, used) for item in node]
    return node


@cache
def raw_compose() -> dict:
    """The compose file as written: YAML anchors merged, no variable substituted."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


@cache
def env_example() -> dict[str, str]:
    return {key: value or "" for key, value in dotenv_values(ENV_EXAMPLE).items()}


@cache
def compose_and_variables() -> tuple[dict, frozenset[str]]:
    used: set[str] = set()
    return interpolate_tree(raw_compose(), env_example(), used), frozenset(used)


def services() -> dict[str, dict]:
    return compose_and_variables()[0]["services"]


def built_here(service: dict) -> bool:
    """Whether the service runs the image built from ./Dockerfile."""
    return "build" in service


def commands(argv: list[str]) -> list[list[str]]:
    """The programs ``argv`` runs: a ``bash -c`` script is split into its simple commands."""
    if Path(argv[0]).name not in {"bash", "sh"}:
        return [argv]
    *flags, script = argv[1:]
    assert any(flag.startswith("-") and "c" in flag for flag in flags), argv
    lexer = shlex.shlex(script, posix=True, punctuation_chars=SHELL_SEPARATORS)
    lexer.whitespace, lexer.whitespace_split = " \t", True
    simple: list[list[str]] = [[]]
    for token in lexer:
        if set(token) <= set(SHELL_SEPARATORS):
            simple.append([])
        else:
            simple[-1].append(token)
    return [command for command in simple if command]


def service_commands() -> Iterator[tuple[str, dict, list[str]]]:
    """(service name, service, argv) for every program a command or healthcheck runs."""
    for name, service in services().items():
        if "command" in service:
            command = service["command"]
            argv = shlex.split(command) if isinstance(command, str) else command
            for simple in commands(argv):
                yield name, service, simple
        if "healthcheck" in service:
            test = service["healthcheck"]["test"]
            kind, *test = ["CMD-SHELL", test] if isinstance(test, str) else test
            argv = ["sh", "-c", test[0]] if kind == "CMD-SHELL" else test
            for simple in commands(argv):
                yield name, service, simple


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    lines = re.sub(r"\\\n", " ", DOCKERFILE.read_text()).splitlines()
    return [
        tuple(line.split(None, 1))
        for line in map(str.strip, lines)
        if line and not line.startswith("#")
    ]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def image_workdir() -> str:
    return [args for word, args in final_stage() if word == "WORKDIR"][-1]


# --- Variables and schema ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET}/$SET", "value/value"),
        ("$${SET}", "${SET}"),
        ("${UNSET:-fallback} ${EMPTY:-fallback} ${EMPTY-fallback}", "fallback fallback "),
        ("${SET:?needed}", "value"),
    ],
)
def test_interpolation_follows_compose(text, expected):
    assert interpolate(text, {"SET": "value", "EMPTY": ""}, set()) == expected


@pytest.mark.parametrize("text", ["${UNSET:?needed}", "${EMPTY:?needed}", "$", "${A:-${B}}"])
def test_interpolation_refuses_what_it_cannot_resolve(text):
    with pytest.raises(InterpolationError):
        interpolate(text, {"EMPTY": ""}, set())


def test_env_example_lists_exactly_the_variables_the_file_uses():
    used = compose_and_variables()[1]
    assert used == set(env_example()), "variables used by docker-compose.yml vs .env.example"


def test_a_missing_secret_stops_compose_with_its_message():
    env = {key: value for key, value in env_example().items() if key != "POSTGRES_PASSWORD"}
    with pytest.raises(InterpolationError, match=r"POSTGRES_PASSWORD.*set POSTGRES_PASSWORD"):
        interpolate_tree(raw_compose(), env, set())


def test_matches_the_compose_specification_schema():
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose_and_variables()[0]), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


# --- Programs -------------------------------------------------------------------------------------


def check_clickstream(arguments: list[str]) -> None:
    """Parsed as ``clickstream`` parses them; options handed to Streamlit must be its options."""
    stderr = io.StringIO()
    with (
        contextlib.redirect_stderr(stderr),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.suppress(SystemExit),
    ):
        args = parse_arguments(arguments)
    assert not stderr.getvalue(), stderr.getvalue()
    if streamlit_options := getattr(args, "streamlit_options", []):
        from streamlit import config

        for option in streamlit_options:
            if option.startswith("--"):
                config.get_option(option.removeprefix("--"))  # RuntimeError if Streamlit lacks it


def check_spark_class(arguments: list[str]) -> None:
    main_class, *options = arguments
    [jar] = spark_home().glob("jars/spark-core_*.jar")
    with zipfile.ZipFile(jar) as classes:
        # The option names are string constants of the daemon's argument parser class.
        parser = classes.read(SPARK_DAEMONS[main_class].replace(".", "/") + ".class")
        classes.getinfo(main_class.replace(".", "/") + ".class")
    known = {option.decode() for option in re.findall(rb"--[a-z][a-z-]+", parser)}
    unknown = {option for option in options if option.startswith("--")} - known
    assert not unknown, f"{main_class} takes {sorted(known)}, not {sorted(unknown)}"


def check_python(arguments: list[str]) -> None:
    assert arguments[0] == "-c", arguments
    compile(arguments[1], "<python -c>", "exec")


def test_every_program_exists_and_takes_its_arguments():
    checks = {"clickstream": check_clickstream, "spark-class": check_spark_class}
    checks |= {"python": check_python, "airflow": lambda arguments: None}  # airflow: next test
    runs = [args for word, args in final_stage() if word == "RUN"]
    seen = set()
    for name, service, (program, *arguments) in service_commands():
        seen.add(program)
        if program in checks and built_here(service):
            assert (VENV_BIN / program).exists(), f"{name}: {program} is not in the venv"
            checks[program](arguments)
        else:
            assert program in OTHER_PROGRAMS, f"{name}: unknown program {program}"
            if program == "curl":
                assert any("install" in run and "curl" in run.split() for run in runs), "curl"
    assert {"airflow", "clickstream", "spark-class"} <= seen


AIRFLOW_PROBE = """
import contextlib, importlib.util, io, json, sys
import airflow.settings
from airflow.cli.cli_parser import get_parser
from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

request = json.loads(sys.argv[1])
airflow.settings.engine, airflow.settings.async_engine  # the PostgreSQL drivers load
errors = []
for arguments in request["commands"]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        with contextlib.suppress(SystemExit):
            get_parser().parse_args(arguments)
    errors += stderr.getvalue().strip().splitlines()[-1:]
module, _, name = request["auth_manager"].rpartition(".")  # read, not imported: saves a second
assert f"class {name}(" in open(importlib.util.find_spec(module).origin).read(), module
master = SparkSubmitHook(conn_id="spark_default")._connection["master"]
print("PROBE " + json.dumps({"errors": errors, "spark_master": master}))
"""


def test_airflow_starts_with_the_compose_settings(tmp_path):
    """Airflow's own CLI parser, metadata DB engines, auth manager and Spark hook, in a child
    process with the scheduler's environment (a throwaway AIRFLOW_HOME: importing airflow writes)."""
    environment = services()["airflow-scheduler"]["environment"]
    airflow_commands = [argv[1:] for _, _, argv in service_commands() if argv[0] == "airflow"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env |= environment | {
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path),
    }
    auth_manager = environment["AIRFLOW__CORE__AUTH_MANAGER"]
    request = {"commands": airflow_commands, "auth_manager": auth_manager}
    result = subprocess.run(
        [sys.executable, "-c", AIRFLOW_PROBE, json.dumps(request)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [line] = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    probe = json.loads(line.removeprefix("PROBE "))

    assert probe["errors"] == []
    assert {" ".join(argv) for argv in airflow_commands} >= {
        "db migrate",
        "api-server",
        "scheduler",
        "dag-processor",
        "triggerer",
    }
    # One Spark master for the provider's connection, the clickstream commands and the workers.
    master = services()["spark-master"]["command"]
    url = f"spark://{master[master.index('--host') + 1]}:{master[master.index('--port') + 1]}"
    assert probe["spark_master"] == url
    for name, service in services().items():
        if built_here(service):
            assert service["environment"]["CLICKSTREAM_SPARK_MASTER"] == url, name
        if name.startswith("spark-worker"):
            assert url in service["command"], name


def test_airflow_settings_are_real_options():
    origin = importlib.util.find_spec("airflow").origin  # found, not imported
    config = yaml.safe_load((Path(origin).parent / "config_templates" / "config.yml").read_text())
    known = {f"AIRFLOW__{s}__{o}".upper() for s, body in config.items() for o in body["options"]}
    for name, service in services().items():
        settings = {key for key in service.get("environment", {}) if key.startswith("AIRFLOW__")}
        assert settings <= known, f"{name}: not Airflow options: {settings - known}"


# --- Mounts, health, secrets, image -----------------------------------------------------------------


def test_mounted_paths_exist_and_every_built_service_shares_the_lakehouse():
    declared = set(compose_and_variables()[0]["volumes"])
    for name, service in services().items():
        mounts = [tuple(volume.split(":")[:2]) for volume in service.get("volumes", [])]
        for source, _ in mounts:
            if source.startswith((".", "/")):
                assert source.startswith("./"), f"{name}: host paths must be repository-relative"
                assert (REPO / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
        if built_here(service):
            assert ("lakehouse", "/data") in mounts, name
            assert service["environment"]["CLICKSTREAM_DATA_DIR"] == "/data", name
        if dags := service.get("environment", {}).get("AIRFLOW__CORE__DAGS_FOLDER"):
            assert ("./clickstream/dags", dags) in mounts, name
    # Spark drivers run in the scheduler (LocalExecutor) and read the SQL models shipped in the
    # package (<workdir>/clickstream/sql), mounted live from the checkout.
    scheduler = services()["airflow-scheduler"]["volumes"]
    assert f"./clickstream/sql:{image_workdir()}/clickstream/sql:ro" in scheduler


def test_services_are_health_checked_and_wait_for_their_dependencies():
    for name, service in services().items():
        one_shot = service.get("restart") == "no"
        assert one_shot or "healthcheck" in service, f"{name} has no healthcheck"
        for key in ("interval", "timeout", "start_period", "start_interval"):
            value = service.get("healthcheck", {}).get(key, "0s")
            assert GO_DURATION.fullmatch(value), f"{name}: healthcheck {key}: {value}"
        for target, rule in service.get("depends_on", {}).items():
            assert target in services(), f"{name} depends on an unknown {target}"
            if services()[target].get("restart") == "no":
                assert rule["condition"] == "service_completed_successfully", (name, target)
            else:
                assert rule["condition"] == "service_healthy", (name, target)


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict | list):
        for child in node.values() if isinstance(node, dict) else node:
            yield from strings(child)


def test_no_secret_is_written_in_the_file():
    for name, service in raw_compose()["services"].items():
        for key, value in service.get("environment", {}).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert REQUIRED.fullmatch(value), f"{name}: {key} must be ${{VAR:?message}}"
    for text in strings(raw_compose()):
        for userinfo in re.findall(r"://([^/@\s]+)@", REQUIRED.sub(r"$\1", text)):
            password = userinfo.partition(":")[2]
            assert not password or re.fullmatch(r"\$\w+", password), f"password in a URL: {text}"
    for key, value in env_example().items():
        if SECRET_NAME.search(key):
            assert value.startswith("change-me"), f".env.example: a placeholder for {key}"


def test_image_copies_repository_files_and_installs_the_lock():
    ignored = {
        line.strip().rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()
    }
    assert {".env", ".venv", ".jars", "data", ".git"} <= ignored
    for word, args in dockerfile():
        if word == "COPY" and "--from" not in args:
            for source in [token for token in args.split()[:-1] if not token.startswith("--")]:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"
                assert source.rstrip("/") not in ignored, f"COPY {source}: in .dockerignore"
    runs = [args for word, args in dockerfile() if word == "RUN"]
    assert any("make setup" in run for run in runs), "venv and jars from `make setup` (the lock)"
    env = {
        key: value
        for word, args in final_stage()
        if word == "ENV"
        for key, value in (token.split("=", 1) for token in shlex.split(args))
    }
    assert env["PATH"].startswith(f"{image_workdir()}/.venv/bin:")
    assert env["SPARK_HOME"].endswith("/.venv/lib/python3.11/site-packages/pyspark")
    assert [args for word, args in final_stage() if word == "USER"][-1] not in {"root", "0"}
