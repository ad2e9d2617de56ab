"""Finding the batches a Delta table holds from its commit files, on files laid out as Delta writes
them: tags of ``streaming.append_batches``, and ``txn`` actions of Delta's own streaming sink."""

from __future__ import annotations

import json

from clickstream.lakehouse.delta_log import (
    batch_tag,
    last_batch,
    latest_version,
    tagged_commits,
)


def commit(table, version, *actions):
    path = table / "_delta_log" / f"{version:020}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(action) + "\n" for action in actions))


def tagged(writer, batch):
    return {"commitInfo": {"operation": "WRITE", "userMetadata": batch_tag(writer, batch)}}


def test_last_batch_is_the_writers_newest_tag_past_other_commits(tmp_path):
    commit(tmp_path, 0, {"commitInfo": {"operation": "CREATE TABLE"}}, {"metaData": {}})
    commit(tmp_path, 1, tagged("q1", 0), {"add": {}})
    commit(tmp_path, 2, tagged("q1", 1), {"add": {}})
    commit(tmp_path, 3, tagged("other", 7), {"add": {}})
    commit(tmp_path, 4, {"commitInfo": {"operation": "OPTIMIZE", "userMetadata": "note"}})

    assert last_batch(tmp_path, "q1") == 1
    assert last_batch(tmp_path, "other") == 7
    assert last_batch(tmp_path, "never") is None
    assert {b: v for b, (v, _) in tagged_commits(tmp_path, "q1").items()} == {0: 1, 1: 2}


def test_delta_sink_transactions_count_as_batches(tmp_path):
    """A table written by Delta's streaming sink before the tags: its ``txn`` actions."""
    commit(tmp_path, 0, {"commitInfo": {}}, {"txn": {"appId": "q1", "version": 0}}, {"add": {}})
    commit(tmp_path, 1, {"commitInfo": {}}, {"txn": {"appId": "other", "version": 5}})
    commit(tmp_path, 2, {"commitInfo": {}}, {"txn": {"appId": "q1", "version": 1}})
    commit(tmp_path, 3, tagged("q1", 2))

    assert {b: v for b, (v, _) in tagged_commits(tmp_path, "q1").items()} == {0: 0, 1: 2, 2: 3}
    assert last_batch(tmp_path, "q1") == 2
    assert last_batch(tmp_path, "other") == 5


def test_latest_version_probes_from_the_last_checkpoint(tmp_path):
    for version in range(13):
        commit(tmp_path, version, tagged("q1", version))
    (tmp_path / "_delta_log" / "_last_checkpoint").write_text('{"version":10,"size":3}')
    for version in range(5):  # removed by log cleanup: never read
        (tmp_path / "_delta_log" / f"{version:020}.json").unlink()

    assert latest_version(tmp_path) == 12
    assert last_batch(tmp_path, "q1") == 12
    assert last_batch(tmp_path, "other") is None  # the scan stops at the first cleaned-up file
    assert latest_version(tmp_path / "missing") == -1
