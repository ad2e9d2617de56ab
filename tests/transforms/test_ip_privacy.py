"""IP privacy before silver: truncated to the network, or an HMAC under a key that appears in no
plan, conf or error; a bad setting fails in one line."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from clickstream import cli
from clickstream.core.errors import ClickstreamError
from clickstream.transforms.ip_privacy import IpPrivacy, check
from clickstream.transforms.silver_transform import to_silver
from tests.transforms.test_silver_transform import purchase, validated

ADDRESSES = ["203.0.113.77", "2001:db8:85a3::8a2e:370:7334", "::1", "999.1.1.1", None]
KEY = b"k3y-0f-the-t3st-that-is-long-enough"


def silver_ips(spark, privacy: IpPrivacy):
    events = [
        {**purchase(f"e{n}"), **({"ip_address": ip} if ip is not None else {})}
        for n, ip in enumerate(ADDRESSES)
    ]
    frame = to_silver(validated(spark, *events), privacy)
    return frame, [row.ip_address for row in frame.orderBy("event_id").collect()]


def test_keep_is_the_default(spark):
    _, ips = silver_ips(spark, IpPrivacy())
    assert ips == ["203.0.113.77", "2001:db8:85a3::8a2e:370:7334", "::1", None, None]


def test_truncate_keeps_the_network_only(spark):
    _, ips = silver_ips(spark, IpPrivacy("truncate"))
    assert ips == ["203.0.113.0", "2001:db8:85a3::", "::", None, None]


def test_hash_is_the_hmac_of_the_address_and_the_key_is_in_no_plan(spark, tmp_path):
    key_file = tmp_path / "ip.key"
    key_file.write_bytes(KEY + b"\n")
    frame, ips = silver_ips(spark, IpPrivacy("hash", key_file))

    def oracle(text):
        return hmac.new(KEY, text.encode(), hashlib.sha256).hexdigest() if text else None

    assert ips == [oracle(ip) if ip != "999.1.1.1" else None for ip in ADDRESSES]
    plans = frame._jdf.queryExecution().toString()
    settings = json.dumps(spark.sparkContext.getConf().getAll())
    assert "udf" in plans.lower() and KEY.decode() not in plans + settings


@pytest.mark.parametrize(
    ("privacy", "message"),
    [
        (IpPrivacy("scramble"), "ip privacy 'scramble' is not one of keep, truncate, hash"),
        (IpPrivacy("hash"), "ip privacy 'hash' needs a key: set CLICKSTREAM_IP_HASH_KEY_FILE"),
        (IpPrivacy("hash", Path("/nonexistent/ip.key")), "cannot read the ip hash key file"),
    ],
)
def test_a_bad_setting_is_one_line(privacy, message):
    with pytest.raises(ClickstreamError) as raised:
        check(privacy)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_a_short_key_is_refused_without_showing_it(tmp_path):
    key_file = tmp_path / "ip.key"
    key_file.write_bytes(b"s3cr3t")
    with pytest.raises(ClickstreamError, match="holds 6 bytes") as raised:
        check(IpPrivacy("hash", key_file))
    assert "s3cr3t" not in str(raised.value)


def test_the_cli_refuses_a_bad_mode_from_the_environment_in_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CLICKSTREAM_IP_PRIVACY", "scramble")
    code = cli.main(["pipeline", "run", "--data-dir", str(tmp_path), "--trigger", "available-now"])
    err = capsys.readouterr().err.strip()
    assert code == 3 and "ip privacy 'scramble' is not one of" in err and len(err.splitlines()) == 1
