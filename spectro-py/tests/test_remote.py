"""The binding against the real registries scripts/test.sh starts (CNCF distribution),
and interop both ways with an independent OCI client (oras-py)."""

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

import spectro_packs as sp

REPO = Path(__file__).resolve().parents[2]
SPECTRO = REPO / "target/debug/spectro"
PLAIN = os.environ.get("SPECTRO_TEST_REGISTRY")
AUTH = os.environ.get("SPECTRO_TEST_REGISTRY_AUTH")
USER = os.environ.get("SPECTRO_TEST_REGISTRY_USER")
PASSWORD = os.environ.get("SPECTRO_TEST_REGISTRY_PASS")

if not (PLAIN and AUTH) and os.environ.get("SPECTRO_REQUIRE_REGISTRY"):
    raise RuntimeError("SPECTRO_REQUIRE_REGISTRY is set but the test registries are not")
pytestmark = pytest.mark.skipif(not (PLAIN and AUTH), reason="no test registry (run scripts/test.sh)")


def base() -> str:
    return "py" + uuid.uuid4().hex[:12]


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def nginx(fixtures) -> Path:
    return fixtures / "packs/valid/nginx-chart"


def test_push_list_pull_delete_remote(nginx, tmp_path):
    reg = sp.Registry(f"oci://{PLAIN}/{base()}", plain_http=True)
    reg.ping()
    digest = reg.push(nginx)
    assert digest.startswith("sha256:")
    assert reg.push(nginx) == digest, "same content is up to date"
    listed = reg.list("nginx")
    assert listed[0]["name"] == "nginx"
    assert [v["version"] for v in listed[0]["versions"]] == ["1.11.2"]
    out = Path(reg.pull("nginx:1.x", tmp_path))
    assert (out / "pack.json").is_file()
    reg.delete("nginx:1.11.2")
    with pytest.raises(sp.NotFoundError):
        reg.pull("nginx:1.11.2", tmp_path / "again")


def test_http_url_means_plain_http(nginx):
    reg = sp.Registry(f"http://{PLAIN}/{base()}")
    reg.push(nginx)
    assert reg.list()[0]["name"] == "nginx"


def test_authentication(nginx):
    loc = f"oci://{AUTH}/{base()}"
    with pytest.raises(sp.AuthenticationError, match="authentication required: log in to"):
        sp.Registry(loc, plain_http=True).ping()
    with pytest.raises(sp.AuthenticationError, match="rejected"):
        sp.Registry(loc, username=USER, password="wrong", plain_http=True).push(nginx)
    with pytest.raises(ValueError):
        sp.Registry(loc, username=USER, plain_http=True)
    reg = sp.Registry(loc, username=USER, password=PASSWORD, plain_http=True)
    assert reg.push(nginx).startswith("sha256:")


def test_tls_to_plain_http_server_says_so():
    with pytest.raises(sp.RegistryError, match="TLS") as e:
        sp.Registry(f"oci://{PLAIN}/{base()}").ping()
    assert e.value.kind == "transport"


def oras_client(insecure=True):
    oras_client = pytest.importorskip("oras.client")
    return oras_client.OrasClient(hostname=PLAIN, insecure=insecure)


def test_spectro_push_is_pulled_by_oras_byte_identical(nginx, tmp_path):
    b = base()
    built = json.loads(subprocess.run(
        [str(SPECTRO), "pack", "build", str(nginx), "-o", str(tmp_path / "built"), "--json"],
        check=True, capture_output=True, text=True).stdout)
    pushed = json.loads(subprocess.run(
        [str(SPECTRO), "pack", "push", str(nginx), "--registry", f"oci://{PLAIN}/{b}", "--plain-http", "--json"],
        check=True, capture_output=True, text=True).stdout)
    assert pushed["archive_digest"] == built["digest"]
    ref = f"{PLAIN}/{b}/spectro-packs/archive/nginx:1.11.2"
    client = oras_client()
    manifest = client.get_manifest(ref)
    assert manifest["config"]["mediaType"] == "application/vnd.unknown.config.v1+json"
    assert manifest["config"]["size"] == 2
    [layer] = manifest["layers"]
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    assert layer["annotations"]["org.opencontainers.image.title"] == "nginx-1.11.2.tar.gz"
    assert "artifactType" not in manifest
    files = client.pull(target=ref, outdir=str(tmp_path / "oras"))
    [f] = [Path(p) for p in files]
    assert f.name == "nginx-1.11.2.tar.gz"
    assert f.read_bytes() == Path(built["path"]).read_bytes()


@pytest.mark.parametrize("media_type", [None, "application/vnd.oci.image.layer.v1.tar+gzip"])
def test_tar_czf_pushed_by_oras_is_pulled_by_spectro(nginx, tmp_path, media_type):
    client = oras_client()
    stage = tmp_path / "stage"
    shutil.copytree(nginx, stage / "nginx")
    archive = tmp_path / "nginx-1.11.2.tar.gz"
    subprocess.run(["tar", "czf", str(archive), "-C", str(stage), "nginx"], check=True)
    b = base()
    ref = f"{PLAIN}/{b}/spectro-packs/archive/nginx:1.11.2"
    cwd = os.getcwd()
    os.chdir(tmp_path)  # oras-py titles layers with the path as given
    try:
        client.push(target=ref, files=[archive.name if media_type is None else f"{archive.name}:{media_type}"],
                    disable_path_validation=True)
    finally:
        os.chdir(cwd)
    reg = sp.Registry(f"oci://{PLAIN}/{b}", plain_http=True)
    kept = Path(reg.pull("nginx:1.11.2", tmp_path / "archive", archive=True))
    assert kept.read_bytes() == archive.read_bytes()
    out = Path(reg.pull("nginx:1.11.2", tmp_path / "extracted"))
    assert json.loads((out / "pack.json").read_text())["name"] == "nginx"
    assert (out / "values.yaml").read_bytes() == (nginx / "values.yaml").read_bytes()
    # The CLI pulls and verifies it too.
    subprocess.run([str(SPECTRO), "pack", "pull", "nginx:1.11.2", "-o", str(tmp_path / "cli"),
                    "--registry", f"oci://{PLAIN}/{b}", "--plain-http"], check=True, capture_output=True)
    assert (tmp_path / "cli/nginx/pack.json").is_file()
    with tarfile.open(archive) as t:
        assert "nginx/pack.json" in t.getnames()
