"""Streaming plumbing: checkpoint locks and the metrics record of a batch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from clickstream.core import metrics_store
from clickstream.core.errors import ClickstreamError
from clickstream.streaming.checkpoint_lock import CheckpointLock


def test_second_lock_on_a_checkpoint_is_refused_with_a_clear_message(tmp_path):
    checkpoint = tmp_path / "checkpoints" / "bronze"
    refused = pytest.raises(ClickstreamError, match=r"in use by another running job \(pid \d+")
    with CheckpointLock(checkpoint), refused, CheckpointLock(checkpoint):
        pass
    with CheckpointLock(checkpoint):  # released on exit
        pass


def test_lock_of_a_killed_process_is_released(tmp_path):
    checkpoint = tmp_path / "bronze"
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from clickstream.streaming.checkpoint_lock import CheckpointLock
        with CheckpointLock(Path({str(checkpoint)!r})):
            print("locked", flush=True)
            time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "locked"
        with pytest.raises(ClickstreamError):
            CheckpointLock(checkpoint).__enter__()
    finally:
        process.kill()
        process.wait()
    with CheckpointLock(checkpoint):
        pass


def test_batch_record_flattens_spark_progress():
    progress = {
        "id": "q1",
        "runId": "r1",
        "name": "silver",
        "timestamp": "2026-11-25T10:00:00.000Z",
        "batchId": 7,
        "numInputRows": 100,
        "durationMs": {"triggerExecution": 1234, "addBatch": 1000, "walCommit": 30},
        "stateOperators": [
            {
                "numRowsTotal": 90,
                "numRowsDroppedByWatermark": 2,
                "customMetrics": {"numDroppedDuplicateRows": 5},
            }
        ],
        "observedMetrics": {"silver": {"rows_out": 93}},
        "eventTime": {"watermark": "2026-11-25T09:00:00.000Z"},
    }
    record = metrics_store.batch_record(progress)

    assert record["query"] == "silver"
    assert (record["rows_in"], record["rows_out"], record["batch_duration_ms"]) == (100, 93, 1234)
    assert (record["state_rows"], record["rows_dropped_by_watermark"]) == (90, 2)
    assert record["duplicates_dropped"] == 5
    assert record["phase_ms"] == {"addBatch": 1000, "walCommit": 30}


def test_metrics_store_round_trip(tmp_path):
    metrics_store.append_batch(tmp_path, {"query": "bronze", "batch_id": 0, "rows_in": 3})
    metrics_store.append_batch(tmp_path, {"query": "bronze", "batch_id": 1, "rows_in": 4})

    assert [r["rows_in"] for r in metrics_store.read_batches(tmp_path, "bronze")] == [3, 4]
    assert metrics_store.read_batches(tmp_path, "silver") == []


def test_a_failed_query_is_reported_in_one_line_that_names_it(spark):
    import signal

    from clickstream.streaming.query_loop import StopRequest, run_until_done

    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    failing = (
        spark.readStream.format("rate")
        .load()
        .selectExpr("raise_error('boom') as value")
        .writeStream.format("noop")
        .queryName("doomed")
        .start()
    )
    try:
        with pytest.raises(ClickstreamError, match=r"^query doomed failed: .*boom") as caught:
            run_until_done([failing], StopRequest())
    finally:
        failing.stop()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert "\n" not in str(caught.value)


def test_every_batch_reaches_the_metrics_store_with_its_phases(spark, tmp_path):
    from clickstream.streaming.progress_listener import install_metrics_listener
    from clickstream.streaming.sinks import write_delta_stream
    from clickstream.streaming.trigger import Trigger

    source = tmp_path / "lines"
    source.mkdir()
    for number in range(3):
        part = source / f"part{number}.txt"
        part.write_text("".join(f"{number}-{i}\n" for i in range(number + 1)))
        os.utime(part, (1_700_000_000 + number, 1_700_000_000 + number))  # read in this order
    lines = spark.readStream.format("text").option("maxFilesPerTrigger", 1).load(str(source))
    listener = install_metrics_listener(spark, tmp_path / "metrics")
    try:
        query = write_delta_stream(
            lines,
            name="listened",
            table_path=tmp_path / "table",
            checkpoint=tmp_path / "checkpoint",
            trigger=Trigger(available_now=True),
        )
        query.awaitTermination()
        deadline = time.monotonic() + 30  # the listener bus delivers asynchronously
        while len(metrics_store.read_batches(tmp_path / "metrics", "listened")) < 3:
            assert time.monotonic() < deadline, "batches never recorded"
            time.sleep(0.2)
    finally:
        spark.streams.removeListener(listener)

    records = metrics_store.read_batches(tmp_path / "metrics", "listened")
    assert [(r["batch_id"], r["rows_in"], r["rows_out"]) for r in records] == [
        (0, 1, 1),
        (1, 2, 2),
        (2, 3, 3),
    ]
    assert all("addBatch" in r["phase_ms"] and r["batch_duration_ms"] > 0 for r in records)


@pytest.mark.parametrize(
    ("first_writer", "deduplicated"),
    [("append_batches", False), ("delta_sink", False), ("append_batches", True)],
)
def test_a_batch_replayed_after_a_crash_is_not_appended_twice(
    spark, tmp_path, first_writer, deduplicated
):
    """A crash between the Delta commit and the checkpoint's commit: Spark replays the batch on
    restart and the table already holds it. Also for a table Delta's own sink wrote before, and
    for a stateful query (Spark requires the replayed batch's state to be committed)."""
    from clickstream.streaming.sinks import write_delta_stream
    from clickstream.streaming.trigger import Trigger

    source = tmp_path / "lines"
    source.mkdir()
    for number in range(3):
        part = source / f"part{number}.txt"
        part.write_text("".join(f"{number}-{i}\n" for i in range(2)))
        os.utime(part, (1_700_000_000 + number, 1_700_000_000 + number))
    table, checkpoint = tmp_path / "table", tmp_path / "checkpoint"

    def lines():
        read = spark.readStream.format("text").option("maxFilesPerTrigger", 1).load(str(source))
        return read.dropDuplicates(["value"]) if deduplicated else read

    def run_appends():
        write_delta_stream(
            lines(),
            name="replayed",
            table_path=table,
            checkpoint=checkpoint,
            trigger=Trigger(available_now=True),
        ).awaitTermination()

    if first_writer == "delta_sink":
        lines().writeStream.format("delta").option("checkpointLocation", str(checkpoint)).trigger(
            availableNow=True
        ).start(str(table)).awaitTermination()
    else:
        run_appends()
    versions = len(list((table / "_delta_log").glob("*.json")))
    for name in ("2", ".2.crc"):  # batch 2 in the table, not in the checkpoint
        (checkpoint / "commits" / name).unlink()

    run_appends()

    rows = sorted(row.value for row in spark.read.format("delta").load(str(table)).collect())
    assert rows == [f"{n}-{i}" for n in range(3) for i in range(2)]
    assert len(list((table / "_delta_log").glob("*.json"))) == versions  # nothing committed
    assert (checkpoint / "commits" / "2").exists()  # the replayed batch completed


def test_an_error_inside_a_batch_function_is_reported_by_its_cause(spark, tmp_path):
    from clickstream.streaming.query_loop import first_line

    source = tmp_path / "lines"
    source.mkdir()
    (source / "part.txt").write_text("abc\n")
    lines = spark.readStream.format("text").load(str(source))

    def refuse(batch, batch_id):
        raise ValueError(f"batch {batch_id} refused")

    python_error = lines.writeStream.foreachBatch(refuse).trigger(availableNow=True).start()
    spark_error = (
        lines.selectExpr("cast(value as int) as number")
        .writeStream.foreachBatch(lambda batch, _: batch.write.format("noop").mode("append").save())
        .trigger(availableNow=True)
        .start()
    )
    messages = []
    for query in (python_error, spark_error):
        with pytest.raises(Exception) as caught:
            query.awaitTermination()
        messages.append(first_line(caught.value))

    assert messages[0].endswith("terminated with exception: ValueError: batch 0 refused")
    assert "terminated with exception: [CAST_INVALID_INPUT] The value 'abc'" in messages[1]


def test_a_query_killed_while_logging_its_first_batch_starts_again(spark, tmp_path):
    """kill -9 between writing the first offset-log entry and renaming it leaves a hidden temporary
    file (seen in a kill -9 test); Spark 4.2 then refuses the checkpoint as not new. Taking the
    checkpoint's lock removes such leftovers, and only them."""
    from contextlib import ExitStack

    from clickstream.streaming.checkpoint_lock import lock_checkpoints
    from clickstream.streaming.sinks import write_delta_stream
    from clickstream.streaming.trigger import Trigger

    source = tmp_path / "lines"
    source.mkdir()
    (source / "part.txt").write_text("a\nb\n")
    checkpoint, table = tmp_path / "checkpoint", tmp_path / "table"
    offsets = checkpoint / "offsets"
    offsets.mkdir(parents=True)
    orphan = offsets / ".0.f9749bd2-f04b-46a4-8d03-8a747fe781be.tmp"
    orphan.write_text('v1\n{"batchWatermarkMs":0}\n')
    (offsets / f".{orphan.name}.crc").write_bytes(b"crc")

    def run():
        write_delta_stream(
            spark.readStream.format("text").load(str(source)),
            name="first",
            table_path=table,
            checkpoint=checkpoint,
            trigger=Trigger(available_now=True),
        ).awaitTermination()

    with pytest.raises(Exception, match="STATE_STORE_CHECKPOINT_LOCATION_NOT_EMPTY"):
        run()
    with ExitStack() as locks:
        lock_checkpoints(locks, [checkpoint])
        run()

    assert sorted(row.value for row in spark.read.format("delta").load(str(table)).collect()) == [
        "a",
        "b",
    ]
    assert not orphan.exists()


def test_only_half_written_log_files_are_removed(tmp_path):
    from clickstream.streaming.checkpoint_lock import remove_orphaned_log_files

    names = {
        "offsets": ["0", ".0.crc", "1", ".1.crc", ".2.0f1e2d3c-aaaa-4bbb-8ccc-123456789abc.tmp"],
        "commits": ["0", ".0.crc", "..1.0f1e2d3c-aaaa-4bbb-8ccc-123456789abc.tmp.crc", "notes.tmp"],
    }
    for folder, files in names.items():
        (tmp_path / folder).mkdir()
        for name in files:
            (tmp_path / folder / name).write_text("x")

    removed = remove_orphaned_log_files(tmp_path)

    assert sorted(path.name for path in removed) == [
        "..1.0f1e2d3c-aaaa-4bbb-8ccc-123456789abc.tmp.crc",
        ".2.0f1e2d3c-aaaa-4bbb-8ccc-123456789abc.tmp",
    ]
    assert sorted(p.name for p in (tmp_path / "offsets").iterdir()) == sorted(names["offsets"][:4])
    assert sorted(p.name for p in (tmp_path / "commits").iterdir()) == sorted(
        ["0", ".0.crc", "notes.tmp"]
    )


def test_an_error_through_the_python_proxy_is_reported_by_its_cause():
    """py4j's wrapper when a call into the batch function failed: the innermost exception wins."""
    from clickstream.streaming.query_loop import first_line

    message = "\n".join(
        [
            "An exception was raised by the Python Proxy. Return Message: Traceback (most recent "
            "call last):",
            '  File "/venv/py4j/clientserver.py", line 644, in _call_proxy',
            "    return_value = getattr(self.pool[obj_id], method)(*params)",
            "py4j.protocol.Py4JJavaError: An error occurred while calling o812.execute.",
            ": org.apache.spark.SparkException: [DELTA_CONCURRENT_APPEND] Files were added.",
            "\tat org.apache.spark.sql.delta.OptimisticTransaction.commit(x.scala:1)",
        ]
    )

    assert first_line(RuntimeError(message)) == "[DELTA_CONCURRENT_APPEND] Files were added."
    assert first_line(RuntimeError("plain\nsecond")) == "plain"
