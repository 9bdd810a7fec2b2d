"""Batch edits at catalog scale: the local process pool and a dask.distributed cluster (a scheduler and two
workers started here, as separate processes) write the same bytes; a corrupt file is reported while the rest
finish; a run killed with SIGKILL resumes where it stopped."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import product_photo
from studio.__main__ import main
from studio.edits.batch import MANIFEST, read_manifest

distributed = pytest.importorskip("distributed")
DASK = Path(sys.executable).with_name("dask")
STEPS = [{"op": "adjust", "brightness": 1.1, "contrast": 1.15, "sharpness": 1.3}, {"op": "crop", "aspect": "1:1"},
         {"op": "resize", "longest": 96}]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    root = tmp_path_factory.mktemp("catalog")
    folder = root / "photos"
    folder.mkdir()
    for i in range(200):
        product_photo((160, 120), seed=i).save(folder / f"sku{i:03d}.{'png' if i % 3 else 'jpg'}", quality=90)
    (folder / "sku999.jpg").write_bytes(b"\xff\xd8\xff\xe0 a truncated upload")
    recipe = root / "recipe.json"
    recipe.write_text(json.dumps(STEPS))
    return folder, recipe


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != MANIFEST and p.suffix != ".tmp"}


def _edit(recipe: Path, folder: Path, out: Path, *extra: str) -> int:
    return main(["edit", "--recipe", str(recipe), str(folder), "--out", str(out), "--quiet", *extra])


@pytest.fixture(scope="module")
def local_run(catalog, tmp_path_factory):
    folder, recipe = catalog
    out = tmp_path_factory.mktemp("local") / "edited"
    assert _edit(recipe, folder, out, "--workers", "2") == 1                      # one file failed
    return out


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    if not DASK.is_file():
        pytest.skip("dask's command line (dask scheduler / dask worker) is not installed")
    logs = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    port_file = logs / "scheduler.json"
    started = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                 "--scheduler-file", str(port_file)], env=env, stdout=open(logs / "s.log", "w"),
                                stderr=subprocess.STDOUT)]
    deadline = time.monotonic() + 120
    while not port_file.is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(port_file.read_text())["address"]
    for n in range(2):
        started.append(subprocess.Popen([str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1",
                                         "--no-dashboard", "--local-directory", str(logs / f"w{n}")], env=env,
                                        stdout=open(logs / f"w{n}.log", "w"), stderr=subprocess.STDOUT))
    with distributed.Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
    yield address
    for process in started[::-1]:
        process.terminate()
        process.wait(30)


def test_a_dask_cluster_writes_the_same_bytes_as_the_local_pool(catalog, local_run, scheduler, tmp_path, capsys):
    folder, recipe = catalog
    out = tmp_path / "edited"
    assert _edit(recipe, folder, out, "--scheduler", scheduler) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "sku999.jpg" in errors[0]                  # reported, and the rest finished
    assert "edited 200 of 201 images" in captured.out
    local, clustered = _outputs(local_run), _outputs(out)
    assert len(local) == 400                                               # 200 images + 200 sidecars
    assert clustered == local                                              # same names, byte for byte
    with distributed.Client(scheduler, timeout=30) as client:              # the work really went to workers
        assert len(client.scheduler_info()["workers"]) == 2


def test_a_killed_run_resumes_and_skips_finished_files(catalog, local_run, tmp_path, capsys):
    folder, recipe = catalog
    out = tmp_path / "edited"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen([sys.executable, "-m", "studio", "edit", "--recipe", str(recipe), str(folder), "--out",
                            str(out), "--quiet", "--workers", "1"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(read_manifest(out)[0]) < 30 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    run.send_signal(signal.SIGKILL)
    run.wait(30)
    finished = len(read_manifest(out)[0])
    assert 30 <= finished < 200, "the run was not stopped part-way"
    assert _edit(recipe, folder, out, "--workers", "2") == 1
    said = capsys.readouterr().out
    skipped = int(said.split("(")[1].split()[0])
    assert skipped >= finished and f"edited {200 - skipped} of 201 images" in said
    assert _outputs(out) == _outputs(local_run)                 # nothing twice, nothing missing, same bytes
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))     # no half-written file left
