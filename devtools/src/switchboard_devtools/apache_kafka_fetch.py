"""Apache Kafka's jars, fetched from Maven Central into a cache outside the repository,
and the JVM command lines that run them.

Maven resolves ``org.apache.kafka:kafka_2.13`` with its runtime dependencies (see
``apache_kafka_files/pom.xml``) and copies the jars into
``${SWITCHBOARD_CACHE:-~/.cache/switchboard}/apache-kafka/<version>/libs``. That happens
once: a ``complete`` marker is written after a successful copy, and a ``libs`` folder
without it (an interrupted or failed download) is removed and fetched again, never used.
Maven's own local repository (``~/.m2``) is used as Maven always does.

Next to the jars lives a class-data archive (AppCDS) that the first broker to stop
cleanly writes: later JVMs map the classes from it instead of loading and verifying
them, and a broker answers in about half the time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

# The newest Apache Kafka with which the project's clients, aiokafka 0.14.0 and
# confluent-kafka 2.16.1, pass devtools/tests/integration/test_apache_kafka.py: topic
# creation through AIOKafkaAdminClient, an idempotent acks=all AIOKafkaProducer,
# confluent-kafka's idempotent Producer and AdminClient metadata, an AIOKafkaConsumer in
# a group with manual commits, committed and end offsets, an assigned consumer's
# seek_to_beginning, and a three-node cluster losing and regaining a broker. All twelve
# releases 4.0.0 to 4.4.0 passed (SWITCHBOARD_APACHE_KAFKA_VERSION=... runs the tests on
# another one): none removed a protocol version (KIP-896) that these clients need.
KAFKA_VERSION = "4.4.0"
# The Log4j 2 that this Kafka depends on (through kafka-server); the SLF4J 1.x binding,
# which Kafka does not bring itself, is taken at the same version.
LOG4J_VERSION = "2.25.5"

FILES = resources.files("switchboard_devtools") / "apache_kafka_files"
FETCH_TIMEOUT = 1800.0  # seconds; a first fetch downloads some 40 MB through Maven
# Small heaps, and C1 only: a test broker starts sooner that way and moves far less
# data than it would need C2 for.
JVM_OPTIONS = (
    "-Xms128m",
    "-Xmx384m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


def cache_dir(version: str = KAFKA_VERSION) -> Path:
    """Where the jars of ``version`` live (or will, once fetched)."""
    root = os.environ.get("SWITCHBOARD_CACHE") or Path.home() / ".cache" / "switchboard"
    return Path(root).expanduser() / "apache-kafka" / version


def libs_dir(version: str = KAFKA_VERSION) -> Path:
    return cache_dir(version) / "libs"


def _marker(version: str) -> Path:
    return cache_dir(version) / "complete"


def _marker_text(version: str, log4j_version: str) -> str:
    return f"kafka {version}\nlog4j {log4j_version}\n"


def is_fetched(version: str = KAFKA_VERSION, log4j_version: str = LOG4J_VERSION) -> bool:
    marker = _marker(version)
    return marker.is_file() and marker.read_text() == _marker_text(version, log4j_version)


def missing_tools(version: str = KAFKA_VERSION) -> list[str]:
    """The programs this harness needs that are not on PATH: java, and mvn until the
    jars of ``version`` are in the cache."""
    needed = ["java"] if is_fetched(version) else ["java", "mvn"]
    return [tool for tool in needed if shutil.which(tool) is None]


def resource(name: str) -> Path:
    """A file shipped in ``apache_kafka_files`` (the package is installed unzipped)."""
    return Path(str(FILES / name))


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (two test runs never fetch at once)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def fetch_kafka(version: str = KAFKA_VERSION, log4j_version: str = LOG4J_VERSION) -> Path:
    """The folder of ``version``'s jars, fetched through Maven on first use."""
    home = cache_dir(version)
    with _locked(home):
        libs = home / "libs"
        if is_fetched(version, log4j_version) and libs.is_dir():
            return libs
        _marker(version).unlink(missing_ok=True)
        shutil.rmtree(libs, ignore_errors=True)
        for archive in home.glob("classes-*.jsa"):  # made from the jars being replaced
            archive.unlink()
        pom = home / "pom.xml"  # Maven runs in the cache, never in the installed package
        shutil.copyfile(resource("pom.xml"), pom)
        _run_maven(pom, libs, version, log4j_version)
        if not (libs / f"kafka_2.13-{version}.jar").is_file():
            raise RuntimeError(f"Maven copied no kafka_2.13-{version}.jar into {libs}")
        _marker(version).write_text(_marker_text(version, log4j_version))
        return libs


def _run_maven(pom: Path, libs: Path, version: str, log4j_version: str) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("mvn is not on PATH: Maven fetches Apache Kafka's jars")
    argv = [
        mvn,
        "-B",
        "-q",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        "-Dmdep.includeScope=runtime",
        f"-Dkafka.version={version}",
        f"-Dlog4j.version={log4j_version}",
        f"-DoutputDirectory={libs}",
    ]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=FETCH_TIMEOUT, check=False, cwd=pom.parent
    )
    if done.returncode != 0:
        shutil.rmtree(libs, ignore_errors=True)
        output = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise RuntimeError(f"Maven could not fetch Apache Kafka {version}:\n{output}")


def _java() -> Path:
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java is not on PATH: Apache Kafka runs on a JVM (17 or newer)")
    return Path(java).resolve()


def class_archive(version: str = KAFKA_VERSION) -> Path:
    """The class-data archive of ``version``'s JVMs. An archive serves only the JVM build
    that wrote it, so its name carries the java binary's path and modification time."""
    java = _java()
    key = hashlib.sha256(f"{java} {java.stat().st_mtime_ns}".encode()).hexdigest()[:12]
    return cache_dir(version) / f"classes-{key}.jsa"


def java_command(version: str, main: str, *args: str, record: Path | None = None) -> list[str]:
    """``java ... main args`` on the fetched jars of ``version``, mapping the class-data
    archive when there is one, else (with ``record``) writing one to ``record`` at exit."""
    archive = class_archive(version)
    if archive.is_file():
        cds = [f"-XX:SharedArchiveFile={archive}"]
    else:
        cds = [f"-XX:ArchiveClassesAtExit={record}"] if record else []
    log4j = f"-Dlog4j2.configurationFile={resource('log4j2.xml')}"
    classpath = f"{libs_dir(version)}/*"
    return [str(_java()), *JVM_OPTIONS, *cds, log4j, "-cp", classpath, main, *args]


def run_java_tool(version: str, main: str, *args: str) -> str:
    """Run a Kafka command-line tool to its end; its standard output, or an error."""
    argv = java_command(version, main, *args)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{main} {args[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout
