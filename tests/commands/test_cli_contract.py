"""The command line's contract (docs/cli.md): ``submit`` hands its job every flag it does not
know, one spelling per idea, one-line errors, one exit code per kind of failure, ``--version``,
``--log-level``, the path flags a command uses, ``--json``. Parse-only paths and ``--print``:
no JVM starts here."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from clickstream import cli
from clickstream.core import config
from clickstream.spark.submit import job_application, job_names
from clickstream.streaming.trigger import parse_interval, trigger_from_args

CONSOLE_SCRIPT = Path(sys.executable).with_name("clickstream")
BAD_VARS = "{a: ["


def usage_error(capsys, argv: list[str]) -> str:
    """Run ``argv``; it must be a usage error (exit 2): return the last line of stderr."""
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


def one_line_error(capsys, argv: list[str], code: int = 3) -> str:
    """Run ``argv``; it must exit ``code`` with nothing on stdout and one line on stderr."""
    assert cli.main(argv) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    return captured.err


# 1. submit: JOB and its own flags anywhere, everything else to the job, in order, checked first


def printed_command(capsys, argv: list[str]) -> list[str]:
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    import shlex

    return shlex.split(out)


def test_submit_print_prints_the_command_with_the_job_arguments_in_order(capsys, tmp_path):
    command = printed_command(
        capsys,
        [
            "submit", "--data-dir", str(tmp_path), "bronze", "--trigger", "available-now",
            "--print", "--interval", "1 second", "--max-files-per-trigger", "3",
        ],
    )  # fmt: skip
    assert Path(command[0]).name == "spark-submit"
    application = command.index(str(job_application("bronze")))
    assert command[application + 1 :] == [
        "--data-dir", str(tmp_path), "--trigger", "available-now",
        "--interval", "1 second", "--max-files-per-trigger", "3",
    ]  # fmt: skip


def test_submit_print_after_the_job_arguments_still_only_prints(capsys):
    command = printed_command(capsys, ["submit", "gold", "--select", "session_funnel", "--print"])
    assert command[-2:] == ["--select", "session_funnel"]
    assert "--print" not in command


def test_a_wrong_job_flag_is_refused_by_the_jobs_parser_before_anything_runs(capsys):
    last = usage_error(capsys, ["submit", "bronze", "--bogus", "--print"])
    assert last == "clickstream submit bronze: error: unrecognized arguments: --bogus"


def test_an_unknown_job_is_one_line(capsys):
    err = one_line_error(capsys, ["submit", "nope", "--print"])
    assert err == f"error: no Spark job 'nope' (known: {', '.join(job_names())})\n"


def test_every_job_has_a_parse_args_and_no_stale_command_in_its_docstring():
    import importlib

    for job in job_names():
        module = importlib.import_module(f"clickstream.spark_jobs.{job}_job")
        assert module.parse_args([], prog=f"clickstream submit {job}") is not None
        assert "submit-args" not in (module.__doc__ or ""), job


# 2. --full-refresh only where it works


def test_full_refresh_is_a_usage_error_where_it_would_be_ignored(capsys):
    last = usage_error(capsys, ["sql", "test", "--full-refresh"])
    assert last == "clickstream: error: unrecognized arguments: --full-refresh"
    last = usage_error(capsys, ["submit", "report", "--full-refresh", "--print"])
    assert last == "clickstream submit report: error: unrecognized arguments: --full-refresh"


def test_full_refresh_is_taken_where_it_rebuilds(capsys):
    assert cli.parse_arguments(["sql", "run", "--full-refresh"]).full_refresh is True
    assert cli.parse_arguments(["pipeline", "run", "--full-refresh"]).full_refresh is True
    assert printed_command(capsys, ["submit", "gold", "--full-refresh", "--print"])[-1] == (
        "--full-refresh"
    )
    assert printed_command(capsys, ["submit", "pipeline", "--full-refresh", "--print"])[-1] == (
        "--full-refresh"
    )


# 3. one spelling per idea


def test_the_generator_takes_seconds_per_file_not_interval(capsys, tmp_path):
    args = cli.parse_arguments(["generate", "--seconds-per-file", "2.5"])
    assert args.interval == 2.5
    last = usage_error(capsys, ["generate", "--out", str(tmp_path), "--interval", "2"])
    assert last == "clickstream: error: unrecognized arguments: --interval 2"
    err = one_line_error(capsys, ["generate", "--out", str(tmp_path), "--seconds-per-file", "0"])
    assert err == "error: --seconds-per-file must be greater than 0, got 0.0\n"


def test_pipeline_run_drains_with_trigger_available_now_only(capsys):
    args = cli.parse_arguments(["pipeline", "run", "--trigger", "available-now"])
    assert trigger_from_args(args).available_now
    last = usage_error(capsys, ["pipeline", "run", "--available-now"])
    assert last == "clickstream: error: unrecognized arguments: --available-now"


def test_the_airflow_generator_command_uses_only_flags_generate_takes():
    from clickstream.orchestration.operators import generator_command

    params = {"events_per_second": 5, "bot_rate": 0.01}
    command = generator_command(params, until=None)
    assert cli.parse_arguments(command[1:]).command == "generate"


# 4. bad input: one line, no traceback


def test_vars_that_are_neither_json_nor_yaml_are_one_line(capsys):
    err = one_line_error(capsys, ["sql", "validate", "--vars", BAD_VARS])
    assert err == (
        "error: --vars '{a: [' is neither JSON nor a YAML mapping: expected the node content, "
        "but found '<stream end>' at column 6\n"
    )


def test_one_vars_parser_for_the_sql_commands_and_the_gold_runs():
    from clickstream.commands import sql_command
    from clickstream.gold import run_options
    from clickstream.sql_models import project

    assert sql_command.parse_vars is project.parse_vars
    assert run_options.parse_vars is project.parse_vars
    assert project.parse_vars('{"bot_events_per_minute": 80}') == {"bot_events_per_minute": 80}
    assert project.parse_vars("bot_events_per_minute: 80") == {"bot_events_per_minute": 80}


def test_a_bad_shuffle_partitions_variable_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("CLICKSTREAM_SPARK_SHUFFLE_PARTITIONS", "four")
    err = one_line_error(capsys, ["config"])
    assert (
        err
        == "error: CLICKSTREAM_SPARK_SHUFFLE_PARTITIONS='four': expected a whole number above 0\n"
    )


def test_a_bad_trigger_interval_is_a_usage_error(capsys):
    expected = (
        "argument --interval: '2 secs' is not '<number> <unit>' with a unit of "
        "millisecond(s), second(s), minute(s) or hour(s), e.g. '2 seconds'"
    )
    last = usage_error(capsys, ["pipeline", "run", "--interval", "2 secs"])
    assert last == f"clickstream pipeline run: error: {expected}"
    last = usage_error(capsys, ["submit", "bronze", "--interval", "2 secs", "--print"])
    assert last == f"clickstream submit bronze: error: {expected}"


@pytest.mark.parametrize(
    "text", ["2 seconds", "1 second", "500 milliseconds", "1 minute", "3 hours", "1.5 seconds"]
)
def test_trigger_intervals_spark_reads_are_taken(text):
    assert parse_interval(text) == text


@pytest.mark.parametrize("text", ["2 secs", "10 s", "1 min", "2", "seconds", "1.5 minutes"])
def test_other_trigger_intervals_are_refused(text):
    with pytest.raises(Exception, match="is not '<number> <unit>'"):
        parse_interval(text)


# 5. exit codes: 1 a data check failed, 2 usage, 3 configuration or input


def test_a_failed_data_check_exits_1(capsys, tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "events_20261125_100000.json").write_text("not json\n")
    assert cli.main(["inspect", "raw", str(raw), "--strict", "--json"]) == 1
    assert cli.main(["inspect", "raw", str(raw), "--json"]) == 0
    capsys.readouterr()

    from clickstream.gold import model_checks
    from clickstream.spark import session

    class NoSpark:
        def stop(self) -> None:
            pass

    monkeypatch.setattr(session, "build_spark_session", lambda name: NoSpark())
    monkeypatch.setattr(
        model_checks,
        "run_model_tests",
        lambda spark, project, paths, names: [model_checks.CheckResult(names[0], "unique", 2)],
    )
    assert cli.main(["sql", "test", "--data-dir", str(tmp_path)]) == 1
    assert "0 passed, 1 failed" in capsys.readouterr().out


def test_usage_errors_exit_2_and_input_errors_exit_3(capsys, tmp_path):
    assert usage_error(capsys, ["config", "--bogus"]).endswith("unrecognized arguments: --bogus")
    err = one_line_error(capsys, ["inspect", "raw", str(tmp_path / "nowhere")])
    assert err == f"error: {tmp_path / 'nowhere'} does not exist\n"


def test_the_console_script_exits_3_on_an_input_error_without_a_traceback():
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "sql", "validate", "--vars", "[1, 2]"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == "error: --vars must be a mapping like '{\"name\": 1}', got '[1, 2]'\n"


# 6. --version, --log-level, -v


def test_version():
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout) == (0, f"clickstream {version('clickstream')}\n")


@pytest.fixture
def root_level():
    root = logging.getLogger()
    before = root.level
    yield root
    root.setLevel(before)


@pytest.mark.parametrize(
    ("flags", "level"),
    [
        (["-v"], logging.DEBUG),
        (["--log-level", "debug"], logging.DEBUG),
        (["--log-level", "warning"], logging.WARNING),
        (["--log-level", "error"], logging.ERROR),
        ([], logging.INFO),
    ],
)
def test_log_level_is_applied_before_the_command_runs(monkeypatch, root_level, flags, level):
    seen = []
    args = cli.parse_arguments([*flags, "config", "--json"])
    args.handler = lambda args: seen.append(logging.getLogger().level) or 0
    monkeypatch.setattr(cli, "parse_arguments", lambda argv=None: args)
    assert cli.main([]) == 0
    assert seen == [level]


def test_an_unknown_log_level_is_a_usage_error(capsys):
    last = usage_error(capsys, ["--log-level", "loud", "config"])
    assert last.startswith("clickstream: error: argument --log-level: invalid choice: 'loud'")


# 7. a command takes only the path flags it uses


def dir_flags(capsys, argv: list[str]) -> set[str]:
    with pytest.raises(SystemExit) as stopped:
        cli.main([*argv, "--help"])
    assert stopped.value.code == 0
    return set(re.findall(r"--[a-z]+-dir\b", capsys.readouterr().out))


def test_the_generators_commands_take_only_data_dir_and_raw_dir(capsys, tmp_path):
    assert dir_flags(capsys, ["generate"]) == {"--data-dir", "--raw-dir"}
    assert dir_flags(capsys, ["inspect", "raw"]) == {"--data-dir", "--raw-dir"}
    every = {"--data-dir", *(setting.flag for setting in config.PATH_SETTINGS)}
    assert dir_flags(capsys, ["inspect", "tables"]) == every
    last = usage_error(capsys, ["generate", "--bronze-dir", str(tmp_path)])
    assert last == f"clickstream: error: unrecognized arguments: --bronze-dir {tmp_path}"


def test_paths_resolve_when_a_command_has_few_path_flags(tmp_path):
    args = cli.parse_arguments(["generate", "--data-dir", str(tmp_path)])
    paths = config.paths_from_args(args)
    assert paths.raw == tmp_path / "raw" / "events"
    assert paths.bronze == tmp_path / "bronze" / "events"
    assert config.path_flags_given(args) == ["--data-dir", str(tmp_path)]


# 8. --json wherever a command prints a table


def test_config_json(capsys, tmp_path):
    assert cli.main(["config", "--json", "--data-dir", str(tmp_path)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["paths"]["root"] == {
        "value": str(tmp_path),
        "flag": "--data-dir",
        "env": "CLICKSTREAM_DATA_DIR",
    }
    assert document["paths"]["raw"]["value"] == str(tmp_path / "raw" / "events")
    assert document["spark"]["shuffle_partitions"]["env"] == "CLICKSTREAM_SPARK_SHUFFLE_PARTITIONS"
    assert isinstance(document["spark"]["shuffle_partitions"]["value"], int)


def test_sql_list_json(capsys):
    assert cli.main(["sql", "list", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    models = {model["model"]: model for model in document["models"]}
    assert models["bot_anomalies"]["watermark"] == {"column": "event_time", "delay": "2 minutes"}
    assert models["bot_anomalies"]["unique_key"] == ["window_start", "user_id"]
    assert models["funnel_summary_10m"]["depends_on"] == ["session_funnel"]
    names = [model["model"] for model in document["models"]]
    assert names.index("session_funnel") < names.index("funnel_summary_10m")
