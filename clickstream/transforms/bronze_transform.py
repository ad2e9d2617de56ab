"""Bronze: every raw line exactly as it arrived, with ingestion metadata.

Input: raw JSON-lines files in the raw folder (read as text, one row per line, so empty and
unparseable lines are kept too). Output: the bronze Delta table, one row per raw line, columns
``BRONZE_COLUMNS``: ``raw_line`` (the line as it arrived, as text), ``raw_bytes`` (the line's exact
bytes when they are not UTF-8, null otherwise: ``raw_line`` then holds them with each invalid
sequence replaced by U+FFFD, so every Delta reader can read the table), ``source_file``,
``source_modified_at``, ``ingestion_timestamp`` and the partition column ``ingestion_date``.

Bronze does not parse: it is the audit log of what arrived when, and a replay source that a parser
bug cannot have damaged. Parsing, typing and validation are silver's (``clickstream.transforms.event_parsing`` and
``clickstream.transforms.validation``). It also keeps the bronze stream cheap: writing the text costs a
fraction of parsing 20 fields of it (see the docs/performance-log.md).

Bronze is partitioned by *ingestion* date, not event date: a malformed line has no trustworthy event
time, late events would otherwise rewrite old partitions, and retention and replays work by arrival
day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

BRONZE_PARTITION_COLUMN = "ingestion_date"
BRONZE_COLUMNS = (
    "raw_line",
    "raw_bytes",
    "source_file",
    "source_modified_at",
    "ingestion_timestamp",
    BRONZE_PARTITION_COLUMN,
)
# Delta collects min/max statistics of these columns only: the default (the first 32 columns)
# includes raw_line, and statistics of 500-byte strings nobody filters on took 40% of the bronze
# write (1,000,000 lines: 17.3 s with statistics of every column, 9.9 s with none).
BRONZE_STATS_COLUMNS = "source_file,source_modified_at,ingestion_timestamp"
RAW_FILE_GLOB = "*.json"


def readable_text(line: Column) -> tuple[Column, Column]:
    """A line read as text -> (valid UTF-8 text, its exact bytes if they are not UTF-8 else null)."""
    from pyspark.sql import functions as F

    valid = F.is_valid_utf8(line)
    return F.when(valid, line).otherwise(F.make_valid_utf8(line)), F.when(
        ~valid, line.cast("binary")
    )


def to_bronze(raw_lines: DataFrame) -> DataFrame:
    """(raw_line, source_file, source_modified_at) -> bronze rows (``BRONZE_COLUMNS``)."""
    from pyspark.sql import functions as F

    text, raw_bytes = readable_text(F.col("raw_line"))
    return (
        raw_lines.withColumns({"raw_line": text, "raw_bytes": raw_bytes})
        .withColumn("ingestion_timestamp", F.current_timestamp())
        .withColumn(BRONZE_PARTITION_COLUMN, F.to_date("ingestion_timestamp"))
        .select(*BRONZE_COLUMNS)
    )


def read_raw_lines(
    spark: SparkSession,
    raw_dir: str,
    max_files_per_trigger: int,
    clean_source: str = "off",
) -> DataFrame:
    """Streaming text source on ``raw_dir`` -> (raw_line, source_file, source_modified_at).

    Only ``*.json`` files are read; Spark also skips hidden (``.``) and ``_`` names, so the
    generator's temporary files and its ``_ledger`` folder never reach bronze. With
    ``clean_source="delete"`` Spark deletes the files it has committed; archiving is maintenance's
    (``clickstream.lakehouse.maintenance.archive_raw_files``), one layout.
    """
    from pyspark.sql import functions as F

    reader = (
        spark.readStream.format("text")
        .option("pathGlobFilter", RAW_FILE_GLOB)
        .option("maxFilesPerTrigger", max_files_per_trigger)
        .option("cleanSource", clean_source)
    )
    return reader.load(raw_dir).select(
        F.col("value").alias("raw_line"),
        F.col("_metadata.file_path").alias("source_file"),
        F.col("_metadata.file_modification_time").alias("source_modified_at"),
    )
