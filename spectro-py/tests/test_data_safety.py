"""Issue 12 (data safety), the Python items: fork safety, `~` and pathlib locations,
findings that say which pack they belong to, comparable findings."""
import multiprocessing
import os
from pathlib import Path

import pytest

import spectro_packs as sp


def _child_work(args):
    fixtures, reg_dir = args
    reports = sp.validate(Path(fixtures) / "packs/valid")
    listed = sp.Registry(reg_dir).list()
    return sum(len(r.diagnostics) for r in reports), [p["name"] for p in listed]


def test_item29_calls_work_in_forked_children(fixtures, tmp_path):
    # The parent starts everything a call can start: the thread pools and a registry.
    reg = sp.Registry(tmp_path / "reg")
    reg.push(fixtures / "packs/valid/nginx-chart")
    assert all(r.diagnostics == [] for r in sp.validate(fixtures / "packs/valid"))
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        res = pool.map_async(_child_work, [(str(fixtures), str(tmp_path / "reg"))] * 4)
        # A hang (the old behaviour) fails here instead of blocking the suite.
        out = res.get(timeout=120)
    assert out == [(0, ["nginx"])] * 4
    # The same Registry object keeps working in a child too.
    def use_inherited(q):
        q.put([p["name"] for p in reg.list()])
    q = ctx.Queue()
    proc = ctx.Process(target=use_inherited, args=(q,))
    proc.start()
    assert q.get(timeout=120) == ["nginx"]
    proc.join(timeout=60)
    assert proc.exitcode == 0


def _remote_child(reg, q):
    q.put([p["name"] for p in reg.list()])


def test_item29_remote_registry_made_before_fork_works_in_the_child(nginx_remote):
    reg = nginx_remote
    assert [p["name"] for p in reg.list()] == ["nginx"]  # parent: client and pools started
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_remote_child, args=(reg, q))
    proc.start()
    assert q.get(timeout=120) == ["nginx"]
    proc.join(timeout=60)
    assert proc.exitcode == 0


@pytest.fixture
def nginx_remote(fixtures):
    host = os.environ.get("SPECTRO_TEST_REGISTRY")
    if not host:
        if os.environ.get("SPECTRO_REQUIRE_REGISTRY"):
            pytest.fail("SPECTRO_REQUIRE_REGISTRY is set but SPECTRO_TEST_REGISTRY is not")
        pytest.skip("no test registry (run scripts/test.sh)")
    import uuid
    reg = sp.Registry(f"oci://{host}/fork{uuid.uuid4().hex[:12]}", plain_http=True)
    reg.push(fixtures / "packs/valid/nginx-chart")
    return reg


def test_item25_tilde_and_pathlib_locations(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    reg = sp.Registry("~/packs")
    assert reg.location == f"file://{tmp_path / 'home' / 'packs'}"
    assert (tmp_path / "home" / "packs").is_dir()
    assert not Path("~").exists()
    assert sp.Registry(tmp_path / "other").location == f"file://{tmp_path / 'other'}"


def test_item36_findings_name_their_pack(fixtures):
    # One report per pack: pack-relative file names can be told apart.
    reports = sp.validate(fixtures / "packs/invalid")
    assert len({r.path for r in reports}) == len(reports) > 10
    with_pk006 = [r for r in reports if any(d.code == "PK006" for d in r.diagnostics)]
    assert with_pk006 and all(r.path.endswith("PK006-invalid-enum-value") for r in with_pk006)


def test_item37_diagnostics_compare_and_hash(fixtures):
    [a] = sp.validate(fixtures / "packs/invalid/PK006-invalid-enum-value")
    [b] = sp.validate(fixtures / "packs/invalid/PK006-invalid-enum-value")
    a, b = a.diagnostics, b.diagnostics
    assert a == b and len({*a, *b}) == len(a)


def test_item17_credentials_in_a_location_are_refused_and_not_echoed():
    with pytest.raises(sp.RegistryError) as e:
        sp.Registry("oci://user:hunter2@127.0.0.1:5000/base")
    assert "hunter2" not in str(e.value)


def test_item31_ping_list_delete_can_be_interrupted():
    import signal
    import socket
    import threading
    import time

    # A "registry" that accepts connections and never answers.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    reg = sp.Registry(f"oci://127.0.0.1:{srv.getsockname()[1]}/base", plain_http=True)
    try:
        for call in (reg.ping, reg.list, lambda: reg.delete("nginx:1.0.0")):
            timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
            timer.start()
            started = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                call()
            timer.join()
            # Returned on the interrupt, not on the 60 s request timeout.
            assert time.monotonic() - started < 30
    finally:
        stop.set()
        for c in held:
            c.close()
        srv.close()
