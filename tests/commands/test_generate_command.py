"""``clickstream generate`` and ``clickstream inspect raw`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clickstream import cli
from clickstream.generator.ledger import load_ledger
from tests.generator.helpers import ledger_documents

CONSOLE_SCRIPT = Path(sys.executable).with_name("clickstream")
BACKFILL = ["--start", "2026-11-25T10:00:00", "--end", "2026-11-25T10:03:00", "--rate", "100"]
FAULTS = ["--duplicate-rate", "0.03", "--late-rate", "0.03", "--out-of-order-rate", "0.03"]
FAULTS += ["--malformed-rate", "0.03", "--late-delay", "60", "90"]


def generate(out: Path, *flags: str) -> int:
    return cli.main(["generate", "--out", str(out), *BACKFILL, *flags])


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*.json")}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--rate", "-5"], "--rate must be greater than 0"),
        (["--seconds-per-file", "0"], "--seconds-per-file must be greater than 0"),
        (["--start", "2026-11-25T10:00:00", "--end", "2026-11-25T09:00:00"], "is not after"),
        (["--end", "2026-11-25T09:00:00"], "--end needs --start"),
        (["--start", "2026-11-25T09:00:00"], "needs --end or --duration"),
        (["--start", "yesterday", "--duration", "60"], "not an ISO-8601 date-time"),
        (["--cart-rate", "1.5"], "--cart-rate must be between 0 and 1"),
        (["--duplicate-rate", "-0.1"], "--duplicate-rate must be between 0 and 1"),
        (["--bot-rate", "2"], "--bot-rate must be between 0 and 1"),
        (["--malformed-kinds", "truncated_json,bogus"], "unknown malformed kinds ['bogus']"),
        (["--count", "0"], "--count must be greater than 0"),
        (["--late-delay", "600", "120"], "--late-delay needs 0 <= MIN <= MAX"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_3(tmp_path, capsys, flags, message):
    assert cli.main(["generate", "--out", str(tmp_path / "raw"), *flags]) == 3
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and stderr.startswith("error: ")
    assert message in stderr
    assert not (tmp_path / "raw").exists()


def test_an_unwritable_folder_gives_one_line_and_exit_3(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert generate(tmp_path / "file" / "raw") == 3
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: cannot write to") and stderr.count("\n") == 1


def test_the_console_script_reports_bad_arguments_without_a_traceback(tmp_path):
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "generate", "--out", str(tmp_path), "--rate", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
    assert result.stderr == "error: --rate must be greater than 0, got -1.0\n"


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        assert generate(tmp_path / name, "--seed", seed, *FAULTS) == 0
    first, second, other = (folder_bytes(tmp_path / name) for name in "abc")
    assert len(first) > 20
    assert first == second
    assert first != other


def test_generate_prints_a_summary_and_defaults_to_the_raw_folder(tmp_path, capsys):
    code = cli.main(["generate", "--data-dir", str(tmp_path), *BACKFILL, "--seed", "1"])
    assert code == 0
    raw = tmp_path / "raw" / "events"
    ledger = load_ledger(raw)
    stdout = capsys.readouterr().out
    assert "valid events" in stdout and f"{ledger.unique_valid_events:,}" in stdout
    assert len(ledger.files) == 18  # 3 minutes, a file every 10 s


def test_inspect_raw_compares_files_with_their_ledger(tmp_path, capsys):
    generate(tmp_path, "--seed", "2", *FAULTS)
    capsys.readouterr()
    assert cli.main(["inspect", "raw", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    ledger = load_ledger(tmp_path)
    assert report["unique_valid_events"] == report["ledger"]["unique_valid_events"]
    assert report["lines"] == ledger.lines
    assert report["malformed_by_kind"] == dict(sorted(ledger.malformed_by_kind.items()))
    assert report["files_without_ledger"] == []
    assert cli.main(["inspect", "raw", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "ledger says" in table and "truncated_json" in table


def test_inspect_raw_strict_fails_on_malformed_lines_only(tmp_path, capsys):
    generate(tmp_path / "clean", "--seed", "3")
    generate(tmp_path / "dirty", "--seed", "3", "--malformed-rate", "0.01")
    assert cli.main(["inspect", "raw", str(tmp_path / "clean"), "--strict"]) == 0
    assert cli.main(["inspect", "raw", str(tmp_path / "dirty"), "--strict"]) == 1
    assert cli.main(["inspect", "raw", str(tmp_path / "dirty")]) == 0


def test_inspect_raw_defaults_to_the_raw_folder_and_reads_one_file(tmp_path, capsys):
    raw = tmp_path / "raw" / "events"
    generate(raw, "--seed", "4")
    capsys.readouterr()
    for argv in (
        ["inspect", "raw", "--data-dir", str(tmp_path), "--json"],
        ["inspect", "--data-dir", str(tmp_path), "raw", "--json"],
    ):
        assert cli.main(argv) == 0
        assert json.loads(capsys.readouterr().out)["files"] == 18
    one = sorted(raw.glob("events_*.json"))[3]
    assert cli.main(["inspect", "raw", str(one), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"] == 1 and report["ledger"]["files"] == 1


def test_inspect_raw_of_a_missing_folder_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["inspect", "raw", str(tmp_path / "nowhere")]) == 3
    assert capsys.readouterr().err.startswith("error: ")


def test_the_fast_path_lands_what_the_general_path_lands(tmp_path):
    """Without faults a backfill skips per-line work; a count forces the general path."""
    assert generate(tmp_path / "fast", "--seed", "9") == 0
    assert generate(tmp_path / "general", "--seed", "9", "--count", "1000000000") == 0
    assert folder_bytes(tmp_path / "fast") == folder_bytes(tmp_path / "general")


def test_every_file_has_the_rate_from_the_first_one_on(tmp_path):
    """New sessions fill each window up to the rate: no ramp-up, no ramp-down."""
    assert generate(tmp_path, "--seed", "10") == 0  # 100 events/s, 10 s files, 3 minutes
    counts = [document["unique_valid_events"] for document in ledger_documents(tmp_path)]
    assert len(counts) == 18
    assert all(1000 <= count < 1000 + 150 for count in counts)
