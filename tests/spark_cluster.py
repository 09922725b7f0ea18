"""A Spark standalone cluster on the loopback interface for the tests: one master and two workers, started from the
classes of the pyspark distribution (``bin/spark-class``), each a JVM of its own.

Needs Java 17+ (``.ci/run`` installs Debian's openjdk-17-jre-headless when it is missing).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
#: Short-lived test JVMs start faster with the C1 compiler only and the serial collector.
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss4m"
#: Settings for a driver on this cluster (each worker offers 1 core and 768 MiB).
DRIVER_CONF = {
    "spark.executor.memory": "512m",
    "spark.executor.extraJavaOptions": QUICK_JVM,
    "spark.driver.extraJavaOptions": QUICK_JVM,
    "spark.driver.host": HOST,
    "spark.driver.bindAddress": HOST,
}


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def java_available() -> bool:
    return bool(os.environ.get("JAVA_HOME") or shutil.which("java"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SPARK_HOME=str(spark_home()),
        SPARK_LOCAL_IP=HOST,
        SPARK_DAEMON_MEMORY="256m",  # master and worker daemons (executors get their own JVMs)
        SPARK_WORKER_DIR=str(work),
        SPARK_LOG_DIR=str(work),
        SPARK_NO_DAEMONIZE="1",
        SPARK_DAEMON_JAVA_OPTS=QUICK_JVM,
    )
    return env


def _wait(what: str, ready, procs: list[subprocess.Popen], logs: list[Path], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        for p, log in zip(procs, logs, strict=True):
            if p.poll() is not None:
                raise RuntimeError(f"{what}: a Spark process exited ({p.returncode}):\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    tails = "\n".join(log.read_text()[-1500:] for log in logs)
    raise RuntimeError(f"{what}: not ready after {timeout:.0f} s\n{tails}")


@dataclass
class Cluster:
    url: str
    work: Path
    workers: int
    procs: list[subprocess.Popen]
    logs: list[Path]

    def wait_for_workers(self, timeout: float = 90) -> None:
        """Until every worker has registered with the master."""

        def registered() -> bool:
            done = [
                log
                for log in self.logs[1:]
                if log.exists() and "Successfully registered with master" in log.read_text()
            ]
            return len(done) == self.workers

        _wait("Spark workers", registered, self.procs, self.logs, timeout)

    def wait_for_executors(self, spark, timeout: float = 90) -> None:
        """Until the driver ``spark`` has an executor on every worker."""

        def launched() -> bool:
            return spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() >= self.workers + 1  # + the driver

        _wait("Spark executors", launched, self.procs, self.logs, timeout)


@contextmanager
def standalone_cluster(work: Path, workers: int = 2, timeout: float = 60, memory: str = "768m") -> Iterator[Cluster]:
    """Start a master and ``workers`` workers (1 core and ``memory`` each) on 127.0.0.1; yield once the master listens
    (the workers register meanwhile: :meth:`Cluster.wait_for_workers`). Everything is stopped on exit."""
    work.mkdir(parents=True, exist_ok=True)
    env = _env(work)
    spark_class = str(spark_home() / "bin" / "spark-class")
    port = _free_port()
    url = f"spark://{HOST}:{port}"
    procs: list[subprocess.Popen] = []
    logs: list[Path] = []

    def start(name: str, *args: str) -> None:
        log = work / f"{name}.log"
        logs.append(log)
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [spark_class, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            )

    try:
        start(
            "master", "org.apache.spark.deploy.master.Master", "--host", HOST, "--port", str(port), "--webui-port", "0"
        )
        options = ["--host", HOST, "--cores", "1", "--memory", memory, "--webui-port", "0", "--work-dir", str(work)]
        for i in range(workers):  # workers retry until the master answers, so they start alongside it
            start(f"worker{i + 1}", "org.apache.spark.deploy.worker.Worker", url, *options)

        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex((HOST, port)) == 0

        _wait("Spark master", listening, procs, logs, timeout)
        yield Cluster(url, work, workers, procs, logs)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, 15)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()
