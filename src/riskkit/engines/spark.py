"""A Spark session for the engine: a cluster named by URL (``spark://host:7077``) or ``local[*]``.

Spark needs Java (17 or later; Debian: ``apt-get install openjdk-17-jre-headless``). The session computes in UTC
(Ibis sets ``spark.sql.session.timeZone``), serves no web UI and uses few shuffle partitions, because what the
engine shuffles is already aggregated (thousands of rows).
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import Any
from urllib.parse import urlparse

from riskkit.exceptions import EngineError

DEFAULT_MASTER = "local[*]"


def check_master(master: str) -> None:
    """Fail fast, with a clear message, when a standalone master does not answer (Spark would retry for a minute)."""
    if not master.startswith("spark://"):
        if master.startswith(("local", "yarn", "k8s://")):
            return
        raise EngineError(
            f"Spark master {master!r} is not a URL Spark knows: expected spark://HOST:PORT, local[*], yarn or k8s://…"
        )
    for hostport in master.removeprefix("spark://").split(","):
        url = urlparse(f"spark://{hostport}")
        if not url.hostname or not url.port:
            raise EngineError(f"Spark master {master!r}: expected spark://HOST:PORT")
        try:
            with socket.create_connection((url.hostname, url.port), timeout=3):
                return
        except OSError as exc:
            last = exc
    raise EngineError(f"cannot reach the Spark master at {master}: {last.strerror or last}")


def session(master: str | None = None, **conf: Any) -> Any:
    """The process's Spark session on ``master`` (default ``local[*]``); refused if one runs on another master."""
    master = master or DEFAULT_MASTER
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("the spark engine needs PySpark: pip install 'riskkit[spark]' (and Java 17)") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        running = active.sparkContext.master
        if running != master:
            raise EngineError(f"this process already runs Spark on {running}; it cannot also use {master}")
        return active
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise EngineError("the spark engine needs Java 17 or later (Debian: apt-get install openjdk-17-jre-headless)")
    check_master(master)
    builder = (
        SparkSession.builder.master(master)
        .appName("riskkit")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("RISKKIT_SPARK_SHUFFLE_PARTITIONS", "8"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.scheduler.mode", "FAIR")  # the engine's queries run side by side
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel(os.environ.get("RISKKIT_SPARK_LOG_LEVEL", "ERROR"))
        return spark
    except Exception as exc:
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise EngineError(f"could not start Spark on {master}: {text}") from None
