"""Shoppers' IP addresses protected before silver: kept, truncated or replaced by a keyed hash.

Input: an ``IpPrivacy`` (mode and, for ``hash``, the file that holds the key) and the ``ip_address``
column. Output: the column silver stores.

- ``keep`` (default): the address as sent.
- ``truncate``: the network, not the host: IPv4 to its /24 (``203.0.113.77`` -> ``203.0.113.0``),
  IPv6 to its /48 (``2001:db8:85a3::8a2e:370:7334`` -> ``2001:db8:85a3::``). Coarse geography and
  per-network counts still work; one shopper is no longer singled out.
- ``hash``: HMAC-SHA256 of the address under a secret key, hex: the same address gives the same
  value (distinct counts, joins, bot rules per IP still work), and without the key nobody can test
  a guess. The key is read from ``key_file`` when the job builds its plan and lives only in the
  job's Python function: never in an environment variable, a Spark conf, a plan or a log.

Bronze and quarantine keep the raw line as it arrived (they are the audit log): their retention
and ``clickstream forget`` are what protect it there.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.core.errors import ClickstreamError

if TYPE_CHECKING:
    from pyspark.sql import Column

IP_PRIVACY_ENV = "CLICKSTREAM_IP_PRIVACY"
IP_HASH_KEY_FILE_ENV = "CLICKSTREAM_IP_HASH_KEY_FILE"
IP_PRIVACY_MODES = ("keep", "truncate", "hash")
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class IpPrivacy:
    """How silver stores ``ip_address``; ``key_file`` holds the key of ``hash``."""

    mode: str = "keep"
    key_file: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IpPrivacy:
        environ = os.environ if environ is None else environ
        key_file = environ.get(IP_HASH_KEY_FILE_ENV)
        return cls(environ.get(IP_PRIVACY_ENV, "keep"), Path(key_file) if key_file else None)


def read_key(privacy: IpPrivacy) -> bytes:
    """The hash key, or a one-line ``ClickstreamError`` saying what to fix."""
    if privacy.key_file is None:
        raise ClickstreamError(
            f"ip privacy 'hash' needs a key: set {IP_HASH_KEY_FILE_ENV} (or --ip-hash-key-file) to "
            f"a file of at least {MIN_KEY_BYTES} secret bytes, e.g. "
            "'head -c 32 /dev/urandom > key && chmod 600 key'"
        )
    try:
        key = privacy.key_file.read_bytes().strip()
    except OSError as error:
        raise ClickstreamError(
            f"cannot read the ip hash key file {privacy.key_file}: {error.strerror}"
        ) from error
    if len(key) < MIN_KEY_BYTES:
        raise ClickstreamError(
            f"the ip hash key file {privacy.key_file} holds {len(key)} bytes; "
            f"it needs at least {MIN_KEY_BYTES}"
        )
    return key


def check(privacy: IpPrivacy) -> None:
    """Fail at once, in one line, on a setting a job could not run with."""
    if privacy.mode not in IP_PRIVACY_MODES:
        raise ClickstreamError(
            f"ip privacy {privacy.mode!r} is not one of {', '.join(IP_PRIVACY_MODES)} "
            f"({IP_PRIVACY_ENV} or --ip-privacy)"
        )
    if privacy.mode == "hash":
        read_key(privacy)


def truncate_ip(text: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network of an address; None stays None."""
    if text is None:
        return None
    address = ipaddress.ip_address(text.split("%", 1)[0])
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def hash_ip(key: bytes, text: str | None) -> str | None:
    """HMAC-SHA256 of the address's text under ``key``, hex; None stays None."""
    if text is None:
        return None
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def protected_ip(ip_address: Column, privacy: IpPrivacy) -> Column:
    """``ip_address`` as ``privacy`` says silver stores it (valid addresses only reach here: an
    invalid one is a field error, already null)."""
    if privacy.mode == "keep":
        return ip_address
    check(privacy)
    from pyspark.sql import functions as F

    if privacy.mode == "truncate":
        protect = truncate_ip
    else:
        key = read_key(privacy)

        def protect(text: str | None) -> str | None:
            return hash_ip(key, text)

    # An Arrow-batched Python function: a SQL expression would have to carry the key as a literal,
    # visible in every plan, the Spark UI and the event log.
    @F.udf("string", useArrow=True)
    def ip_privacy(text: str | None) -> str | None:
        return protect(text)

    return ip_privacy(ip_address)
