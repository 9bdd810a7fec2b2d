"""Reviewer identity: accounts in an auth file (hashed), the signed-in user as the reviewer, unverified names
marked; and the server's log for an ordinary user error is one line, not a traceback."""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from conftest import product_photo
from studio.review.auth import Accounts, add_user, hash_password, verify_password
from studio.review.board import Board

gradio_client = pytest.importorskip("gradio_client")


def test_passwords_are_hashed_salted_and_checked(tmp_path):
    stored = hash_password("correct horse", iterations=1000)
    assert "correct horse" not in stored and stored.startswith("pbkdf2_sha256$1000$")
    assert stored != hash_password("correct horse", iterations=1000)            # a fresh salt each time
    assert verify_password("correct horse", stored) and not verify_password("correct hors", stored)
    assert not verify_password("x", "garbage")
    with pytest.raises(ValueError, match="8 characters"):
        hash_password("short")
    users = tmp_path / "users.txt"
    add_user(users, "ana", "ana-secret-1")
    add_user(users, "ben", "ben-secret-1")
    add_user(users, "ana", "ana-secret-2")                                      # replaced, not duplicated
    accounts = Accounts.load(users)
    assert sorted(accounts.users) == ["ana", "ben"] and oct(users.stat().st_mode)[-3:] == "600"
    assert accounts.check("ana", "ana-secret-2") and not accounts.check("ana", "ana-secret-1")
    assert not accounts.check("nobody", "ana-secret-2")
    (tmp_path / "bad.txt").write_text("ana:plaintext\n")
    with pytest.raises(ValueError, match="line 1"):
        Accounts.load(tmp_path / "bad.txt")


def test_cli_adds_a_user_from_stdin(tmp_path):
    users = tmp_path / "users.txt"
    done = subprocess.run([sys.executable, "-m", "studio", "user", "add", str(users), "cara"], input="cara-pass-9\n",
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert Accounts.load(users).check("cara", "cara-pass-9")


def test_the_signed_in_user_is_the_reviewer_and_typed_names_are_unverified(tmp_path):
    from ui.board import reviewer
    from ui.common import Context

    signed = Context(None, None, None, tmp_path, verified_names=True)
    assert reviewer(signed, "Mallory", SimpleNamespace(username="ana")) == "ana"      # the typed name is ignored
    with pytest.raises(ValueError, match="sign in"):
        reviewer(signed, "Mallory", SimpleNamespace(username=None))
    open_ = Context(None, None, None, tmp_path)
    assert reviewer(open_, " Ana ", SimpleNamespace(username=None)) == "Ana"
    with pytest.raises(ValueError, match="enter your name"):
        reviewer(open_, "", None)
    board = Board(tmp_path / "data")
    item = board.add(product_photo((20, 20)), added_by="Ana")
    board.decide(item.id, "Ana", "approve")
    board.decide(item.id, "ben", "approve", verified=True)
    assert [(d.reviewer, d.verified) for d in board.history(item.id)] == [("Ana", False), ("ben", True)]


@pytest.fixture()
def signed_in_server(tmp_path):
    os.environ.setdefault("GRADIO_TEMP_DIR", str(tmp_path / "gradio-tmp"))
    from app import build_demo
    from studio import Studio

    users = tmp_path / "users.txt"
    add_user(users, "ana", "ana-secret-1")
    demo = build_demo(Studio(tmp_path / "weights"), Board(tmp_path / "data"), tmp_path / "exports",
                      verified_names=True)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1",
                            auth=Accounts.load(users).check, run_history=False)
    yield demo, url
    demo.close()


def test_an_auth_file_gates_the_app(signed_in_server):
    import gradio as gr

    demo, url = signed_in_server
    with httpx.Client(timeout=20) as http:
        assert http.post(f"{url}login", data={"username": "ana", "password": "wrong-one"}).status_code >= 400
        assert http.post(f"{url}login", data={"username": "ana", "password": "ana-secret-1"}).status_code == 200
    name_box = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "your-name")
    assert name_box.visible is False                                  # with sign-in nobody types a name
    notes = [b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown)]
    assert not any("not verified" in (n or "") for n in notes)


def test_an_ordinary_user_error_logs_one_line_not_a_traceback(tmp_path):
    """The app in its own process, as `python app.py` runs it: a bad recipe is refused with its message and
    the server's log says so in one line."""
    root = Path(__file__).resolve().parents[1]
    port = 7000 + os.getpid() % 900
    env = {**os.environ, "GRADIO_TEMP_DIR": str(tmp_path / "gradio-tmp"), "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--data-dir", str(tmp_path / "data"),
                               "--weights", str(tmp_path / "none")], cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(120):
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            import time

            time.sleep(0.5)
        photo = tmp_path / "boot.png"
        product_photo((40, 30)).save(photo)
        client = gradio_client.Client(url, verbose=False, analytics_enabled=False,
                                      download_files=str(tmp_path / "dl"))
        with pytest.raises(Exception, match="unknown operation"):
            client.predict(gradio_client.handle_file(str(photo)), '[{"op": "melt"}]', "png", 95, api_name="/edit")
        client.close()
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0]
    assert "refused edit: step 1: unknown operation 'melt'" in log
    assert "Traceback" not in log, log[-2000:]
