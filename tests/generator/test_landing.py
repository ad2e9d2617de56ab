"""Files land atomically with their ledger first; real time stops on a count or a signal."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from clickstream import cli
from clickstream.core import atomic_files
from clickstream.core.errors import ClickstreamError
from clickstream.generator import writer
from clickstream.generator.engine import GeneratorSettings, generate
from clickstream.generator.ledger import FileLedger, data_file_order, ledger_path, load_ledger
from clickstream.generator.writer import Lander
from tests.generator.helpers import START, epoch_ms

START_SECOND = int(START.timestamp())

CONSOLE_SCRIPT = Path(sys.executable).with_name("clickstream")


def visible_data_files(folder: Path) -> list[Path]:
    return [
        path for path in folder.iterdir() if path.is_file() and not path.name.startswith((".", "_"))
    ]


def check_complete(path: Path) -> None:
    """A landed file parses line by line to the end and its ledger is already there."""
    data = path.read_bytes()
    assert data.endswith(b"\n")
    lines = data.splitlines()
    for line in lines:
        json.loads(line)
    ledger = json.loads(ledger_path(path.parent, path.name).read_bytes())
    assert ledger["lines"] == len(lines)


@pytest.mark.parametrize("mode", ["real time", "backfill (background writer)"])
def test_a_reader_never_sees_a_partial_file(tmp_path, mode):
    done = threading.Event()
    seen: set[str] = set()
    failures: list[BaseException] = []

    def poll() -> None:
        while not done.is_set():
            for path in visible_data_files(tmp_path):
                try:
                    check_complete(path)
                except BaseException as error:  # report it from the test thread
                    failures.append(error)
                seen.add(path.name)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        start = START if mode.startswith("backfill") else None
        settings = GeneratorSettings(
            out=tmp_path, rate=3000, interval=0.2, duration=3, seed=1, start=start
        )
        summary = generate(settings)
    finally:
        done.set()
        reader.join()
    assert not failures, failures[0]
    assert len(seen) >= 5
    assert len(summary.files) >= 10


def test_real_time_names_files_by_wall_clock_with_suffixes(tmp_path):
    started_ms = time.time() * 1000
    generate(GeneratorSettings(out=tmp_path, rate=1000, interval=0.25, duration=2, seed=2))
    names = sorted((path.name for path in visible_data_files(tmp_path)), key=data_file_order)
    assert any(name.endswith("_1.json") for name in names)
    windows = [json.loads(ledger_path(tmp_path, name).read_bytes()) for name in names]
    starts = [epoch_ms(window["window_start"]) for window in windows]
    assert starts == sorted(starts)
    assert starts[0] >= started_ms - 1000


def test_real_time_count_lands_exactly_that_many_events(tmp_path):
    began = time.monotonic()
    flags = ["--rate", "2000", "--seconds-per-file", "0.25", "--count", "700", "--seed", "3"]
    code = cli.main(["generate", "--out", str(tmp_path), *flags])
    assert code == 0
    assert load_ledger(tmp_path).unique_valid_events == 700
    assert time.monotonic() - began < 5


def test_sigterm_flushes_the_current_file_and_exits_0(tmp_path):
    command = [str(CONSOLE_SCRIPT), "generate", "--out", str(tmp_path), "--rate", "400"]
    process = subprocess.Popen(
        [*command, "--seconds-per-file", "2", "--seed", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not visible_data_files(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert visible_data_files(tmp_path), "no file landed"
        time.sleep(0.7)  # into the second window
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, stderr.decode()
    assert b"valid events" in stdout
    files = sorted(visible_data_files(tmp_path), key=lambda path: data_file_order(path.name))
    assert len(files) == 2
    for path in files:
        check_complete(path)
    flushed = json.loads(ledger_path(tmp_path, files[-1].name).read_bytes())
    window_ms = epoch_ms(flushed["window_end"]) - epoch_ms(flushed["window_start"])
    assert 0 < window_ms < 2000
    assert flushed["unique_valid_events"] > 0


def test_the_ledger_lands_before_its_data_file(tmp_path, monkeypatch):
    order = []
    real = writer.write_atomically
    monkeypatch.setattr(
        writer, "write_atomically", lambda path, data: (order.append(path.name), real(path, data))
    )
    lander = Lander(tmp_path)
    name = lander.reserve_name(START_SECOND)
    lander.land(name, b"{}\n", b"{}")
    assert order == [f"{name}.json", name]
    assert not [path for path in tmp_path.rglob(".*")]


def test_a_sidecar_whose_data_file_never_landed_is_left_out_of_the_ledger(tmp_path):
    """A generator killed between landing a sidecar and renaming its data file: the hidden data
    file stays and the ledger leaves its sidecar out (then counts it once the file lands)."""

    def sidecar(name: str, lines: int) -> bytes:
        return FileLedger(name, 7, "", "", lines, [], {}).to_bytes()

    lander = Lander(tmp_path)
    landed = lander.reserve_name(START_SECOND)
    lander.land(landed, b"{}\n", sidecar(landed, 1))
    killed = lander.reserve_name(START_SECOND + 1)
    atomic_files.write_atomically(ledger_path(tmp_path, killed), sidecar(killed, 5))
    atomic_files.hidden_path(tmp_path / killed).write_bytes(b"{}\n{}\n{}")  # part of its 5 lines

    assert (load_ledger(tmp_path).files, load_ledger(tmp_path).lines) == ([landed], 1)
    atomic_files.hidden_path(tmp_path / killed).rename(tmp_path / killed)
    assert (load_ledger(tmp_path).files, load_ledger(tmp_path).lines) == ([landed, killed], 6)


def test_a_taken_name_gets_a_suffix(tmp_path):
    lander = Lander(tmp_path)
    names = [lander.reserve_name(START_SECOND + 0.7) for _ in range(3)]
    assert names == [
        "events_20261125_100000.json",
        "events_20261125_100000_1.json",
        "events_20261125_100000_2.json",
    ]
    (tmp_path / "events_20261125_100001.json").write_bytes(b"")
    assert Lander(tmp_path).reserve_name(START_SECOND + 1) == "events_20261125_100001_1.json"


def test_two_generators_in_one_folder_never_share_a_name(tmp_path):
    first, second = Lander(tmp_path), Lander(tmp_path)  # as two processes: no shared memory
    reserved = [first.reserve_name(START_SECOND), second.reserve_name(START_SECOND)]
    assert reserved == ["events_20261125_100000.json", "events_20261125_100000_1.json"]
    second.land(reserved[1], b"second\n", b"{}")
    first.land(reserved[0], b"first\n", b"{}")
    assert (tmp_path / reserved[0]).read_bytes() == b"first\n"
    assert (tmp_path / reserved[1]).read_bytes() == b"second\n"


def test_background_landing_waits_for_every_file(tmp_path):
    lander = Lander(tmp_path, background=True)
    for second in range(5):
        lander.land(lander.reserve_name(START_SECOND + second), b"{}\n", b"{}")
    lander.close()
    assert len(visible_data_files(tmp_path)) == 5


def test_a_folder_that_cannot_be_written_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ClickstreamError, match="cannot write to"):
        Lander(blocker / "raw")


def test_a_file_of_many_pieces_lands_whole(tmp_path):
    # More pieces than one writev call takes, empty ones among them.
    pieces = [str(number).encode() * (number % 7) for number in range(3 * atomic_files.IOV_MAX)]
    atomic_files.write_atomically(tmp_path / "data.json", pieces)
    assert (tmp_path / "data.json").read_bytes() == b"".join(pieces)
    assert not atomic_files.hidden_path(tmp_path / "data.json").exists()
