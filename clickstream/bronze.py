"""Bronze: every raw JSON line, parsed where it parses, with ingestion metadata.

Input: raw JSON-lines files in the raw folder (read as text, one row per line, so empty and
unparseable lines are kept too). Output: the bronze Delta table, one row per raw line, columns:
the event fields typed as in ``clickstream.schema`` (null where a line did not parse; partial where
one field had the wrong type), ``parsed_ok``, ``raw_line`` (the line exactly as it arrived),
``source_file``, ``source_modified_at``, ``ingestion_timestamp`` and the partition column
``ingestion_date``.

Bronze is partitioned by *ingestion* date, not event date: it is the audit log of what arrived when.
A malformed line has no trustworthy event time, late events would otherwise rewrite old partitions,
and retention and replays work by arrival day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clickstream.schema import CORRUPT_RECORD_COLUMN, EVENT_FIELDS, bronze_spark_schema

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

BRONZE_PARTITION_COLUMN = "ingestion_date"
RAW_FILE_GLOB = "*.json"


def to_bronze(raw_lines: DataFrame) -> DataFrame:
    """(raw_line, source_file, source_modified_at) -> bronze rows (see the module docstring)."""
    from pyspark.sql import functions as F

    # A UTF-8 byte-order mark at the start of a file is encoding, not content.
    text = F.regexp_replace("raw_line", "^\ufeff", "")
    parsed = F.from_json(
        text,
        bronze_spark_schema(),
        {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD_COLUMN},
    )
    return (
        raw_lines.withColumn("parsed", parsed)
        .withColumn("ingestion_timestamp", F.current_timestamp())
        .select(
            *(F.col(f"parsed.{name}").alias(name) for name in EVENT_FIELDS),
            (F.col("parsed").isNotNull() & F.col(f"parsed.{CORRUPT_RECORD_COLUMN}").isNull()).alias(
                "parsed_ok"
            ),
            "raw_line",
            "source_file",
            "source_modified_at",
            "ingestion_timestamp",
            F.to_date("ingestion_timestamp").alias(BRONZE_PARTITION_COLUMN),
        )
    )


def read_raw_lines(
    spark: SparkSession,
    raw_dir: str,
    max_files_per_trigger: int,
    clean_source: str = "off",
    archive_dir: str | None = None,
) -> DataFrame:
    """Streaming text source on ``raw_dir`` -> (raw_line, source_file, source_modified_at).

    Only ``*.json`` files are read; Spark also skips hidden (``.``) and ``_`` names, so the
    generator's temporary files and its ``_ledger`` folder never reach bronze. With
    ``clean_source="archive"`` Spark moves files it has committed under ``archive_dir``.
    """
    from pyspark.sql import functions as F

    reader = (
        spark.readStream.format("text")
        .option("pathGlobFilter", RAW_FILE_GLOB)
        .option("maxFilesPerTrigger", max_files_per_trigger)
        .option("cleanSource", clean_source)
    )
    if clean_source == "archive":
        reader = reader.option("sourceArchiveDir", archive_dir)
    return reader.load(raw_dir).select(
        F.col("value").alias("raw_line"),
        F.col("_metadata.file_path").alias("source_file"),
        F.col("_metadata.file_modification_time").alias("source_modified_at"),
    )
