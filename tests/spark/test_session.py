"""The shared session builder gives a working, offline Delta Lake."""

from __future__ import annotations

import pytest

from clickstream.spark.jars import jars_dir, load_lock


def test_delta_round_trip_with_history_and_time_travel(spark, tmp_path):
    table = str(tmp_path / "round_trip")
    spark.createDataFrame([(1, "a"), (2, "b")], "id int, name string").write.format("delta").save(
        table
    )
    spark.createDataFrame([(3, "c")], "id int, name string").write.format("delta").mode(
        "append"
    ).save(table)

    current = {row.id for row in spark.read.format("delta").load(table).collect()}
    history = spark.sql(f"describe history delta.`{table}`").collect()
    first_version = spark.read.format("delta").option("versionAsOf", 0).load(table)

    assert current == {1, 2, 3}
    assert [(row.version, row.operation) for row in history] == [(1, "WRITE"), (0, "WRITE")]
    assert {row.id for row in first_version.collect()} == {1, 2}


def test_session_settings(spark, spark_settings):
    conf = spark.conf
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.sql.shuffle.partitions") == str(spark_settings.shuffle_partitions)
    assert conf.get("spark.sql.streaming.stateStore.providerClass").endswith(
        "RocksDBStateStoreProvider"
    )
    assert conf.get("spark.sql.catalog.spark_catalog").endswith("DeltaCatalog")
    assert spark.sparkContext.master == spark_settings.master


def test_jars_come_from_the_local_folder_never_from_ivy(spark):
    conf = spark.sparkContext.getConf()
    jars = conf.get("spark.jars").split(",")

    assert conf.get("spark.jars.packages", None) is None
    assert sorted(jars) == sorted(str(jars_dir() / spec.filename) for spec in load_lock())


def test_jvm_network_is_closed(spark, offline_proxy_port):
    jvm = spark.sparkContext._jvm
    assert jvm.java.lang.System.getProperty("https.proxyPort") == str(offline_proxy_port)

    url = jvm.java.net.URL("https://example.org/")
    with pytest.raises(Exception, match=r"(?i)connect"):
        url.openStream().close()


def test_jvm_runs_the_default_garbage_collector(spark):
    """Nothing in the test session chooses a collector, so its JVM runs the throughput one."""
    jvm = spark.sparkContext._jvm
    beans = jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
    names = {beans.get(i).getName() for i in range(beans.size())}

    assert names == {"PS Scavenge", "PS MarkSweep"}
