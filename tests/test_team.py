"""A team deployment: two app servers (separate processes, as two replicas would be) on one PostgreSQL board
and one shared data dir, driven through gradio_client; one server killed with SIGKILL mid-burst."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import product_photo
from studio.review import Board

gradio_client = pytest.importorskip("gradio_client")
ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path: Path, url: str, data: Path, name: str) -> tuple[subprocess.Popen, str, str]:
    port = _port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "GRADIO_TEMP_DIR": str(tmp_path / f"gradio-{name}")}
    log = open(tmp_path / f"{name}.log", "w")
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port),
                               "--data-dir", str(data), "--database-url", url, "--weights", str(tmp_path / "none")],
                              cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}/", name


def _wait(tmp_path: Path, server: subprocess.Popen, address: str, name: str) -> tuple[subprocess.Popen, str]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"{name} exited: " + (tmp_path / f"{name}.log").read_text()[-3000:])
        try:
            urllib.request.urlopen(address + "config", timeout=2).close()
            return server, address
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise AssertionError(f"{name} did not start: " + (tmp_path / f"{name}.log").read_text()[-3000:])


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory, pg_cluster):
    """Started once for the module (each start imports torch and gradio); the kill test runs last."""
    tmp_path = tmp_path_factory.mktemp("team")
    url = pg_cluster.create_database()
    data = tmp_path / "shared-data"
    board = Board(data, url)
    ids = [board.add(product_photo((16, 16), seed=i), added_by="ana", prompt=f"item {i}").id for i in range(3)]
    launched = [_start(tmp_path, url, data, name) for name in ("a", "b")]      # both start at once
    started = [_wait(tmp_path, *one) for one in launched]
    clients = [gradio_client.Client(address, verbose=False, analytics_enabled=False) for _, address in started]
    yield board, ids, started, clients
    for client in clients:
        client.close()
    for server, _ in started:
        if server.poll() is None:
            server.terminate()
            server.wait(30)


def test_decisions_through_either_replica_are_visible_from_both(two_servers):
    board, ids, _, (a, b) = two_servers
    for n in range(10):
        for item_id in ids:
            a.predict(item_id, "ana", "comment", f"ana {n}", "", api_name="/board_decide")
            b.predict(item_id, "ben", "comment", f"ben {n}", "", api_name="/board_decide")
    a.predict(ids[0], "ana", "approve", "", "", api_name="/board_decide")
    b.predict(ids[0], "ben", "reject", "", "", api_name="/board_decide")
    seen_a = a.predict("", api_name="/board_history")
    seen_b = b.predict("", api_name="/board_history")
    assert seen_a == seen_b and len(seen_a) == 2 * 10 * 3 + 2
    for who in ("ana", "ben"):
        assert [d["comment"] for d in seen_a if d["reviewer"] == who and d["item_id"] == ids[1]] == \
            [f"{who} {n}" for n in range(10)]
    statuses = {i["id"]: i["status"] for i in b.predict("", api_name="/board_items")}
    assert statuses[ids[0]] == "rejected" and statuses[ids[1]] == "pending"
    retry = a.predict(ids[2], "ana", "star", "", "retry-key-0001", api_name="/board_decide")
    assert b.predict(ids[2], "ana", "star", "", "retry-key-0001", api_name="/board_decide") == retry


def test_a_replica_killed_mid_burst_loses_no_acknowledged_decision(two_servers):
    board, ids, ((server_a, _), _), (a, b) = two_servers
    acknowledged: list[str] = []

    def burst():
        for n in range(10_000):
            text = f"burst {n}"
            try:
                a.predict(ids[n % 3], "ana", "comment", text, f"burst-key-{n:06d}", api_name="/board_decide")
            except Exception:                      # noqa: BLE001 - the server went away mid-request
                return
            acknowledged.append(text)

    worker = threading.Thread(target=burst, daemon=True)
    worker.start()
    while len(acknowledged) < 15:
        time.sleep(0.05)
        assert worker.is_alive(), "the burst stopped before the kill"
    os.kill(server_a.pid, signal.SIGKILL)
    server_a.wait(30)
    worker.join(60)
    recorded = [d["comment"] for d in b.predict("", api_name="/board_history")
                if d["reviewer"] == "ana" and (d["comment"] or "").startswith("burst ")]
    assert set(acknowledged) <= set(recorded)              # every acknowledged decision is there
    assert len(recorded) - len(acknowledged) <= 1          # at most the one in flight got in unacknowledged
    assert recorded[:len(acknowledged)] == acknowledged    # in the order they were made
    b.predict(ids[0], "ben", "approve", "", "", api_name="/board_decide")   # the survivor carries on
    assert board.get(ids[0]).status == "approved"
