"""`fundwatch users` and `fundwatch serve` as a user runs them: the password never an argument,
the real server answering on its port."""

from __future__ import annotations

import pytest

import socket
import subprocess
import sys
import time
import urllib.request

from fundwatch.store import LeadStore
from fundwatch.workspace.auth import verify_password

pytestmark = pytest.mark.slow  # starts the real command in subprocesses


def fundwatch(*args, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fundwatch", *map(str, args)], input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def test_users_add_reads_the_password_from_stdin_never_from_an_argument(tmp_path):
    url = f"sqlite:///{tmp_path / 'leads.sqlite'}"
    r = fundwatch("users", "add", "管理员", "--role", "admin", "--store", url, stdin="a long password\n")
    assert r.returncode == 0, r.stderr
    with LeadStore(url) as st:
        u = st.user(name="管理员")
    assert u["role"] == "admin" and verify_password(u["password_hash"], "a long password")
    assert "a long password" not in u["password_hash"]
    r = fundwatch("users", "add", "x", "--role", "admin", "--store", url, "--password", "secret123")
    assert r.returncode == 2 and "--password" in r.stderr
    r = fundwatch("users", "add", "y", "--role", "admin", "--store", url, stdin="short\n")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "8 characters" in r.stderr
    r = fundwatch("users", "add", "管理员", "--role", "reviewer", "--store", url, stdin="another password\n")
    assert r.returncode == 2 and "already exists" in r.stderr
    r = fundwatch("users", "list", "--store", url)
    assert r.returncode == 0 and "管理员" in r.stdout and "admin" in r.stdout


def test_serve_answers_with_the_login_form(tmp_path):
    url = f"sqlite:///{tmp_path / 'leads.sqlite'}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "fundwatch", "serve", "--store", url, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = None
        for _ in range(150):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None and 'name="password"' in body and "问题线索工作台" in body
    finally:
        proc.terminate()
        proc.wait(timeout=30)
