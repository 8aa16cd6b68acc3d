import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

import spectro_packs as sp

REPO = Path(__file__).resolve().parents[2]


def test_load_pack(fixtures):
    p = sp.load_pack(fixtures / "packs/valid/hello-universe")
    assert (p.name, p.version, p.layer, p.display_name) == ("hello-universe", "1.3.1", "addon", "Hello Universe")
    assert p.manifest["kubeManifests"] == ["manifests/hello-universe.yaml"]
    assert p.values["manifests"]["hello-universe"]["port"] == 8080
    assert p.path.endswith("hello-universe")
    assert "hello-universe:1.3.1" in repr(p)


def test_load_pack_errors(tmp_path):
    with pytest.raises(sp.PackError, match="no such file"):
        sp.load_pack(tmp_path / "absent")
    (tmp_path / "file").write_text("x")
    with pytest.raises(sp.PackError, match="not a directory"):
        sp.load_pack(tmp_path / "file")


def test_validate_clean_and_findings(fixtures):
    [clean] = sp.validate(fixtures / "packs/valid/hello-universe")
    assert (clean.kind, clean.name, clean.version, clean.layer, clean.diagnostics) == (
        "pack", "hello-universe", "1.3.1", "addon", [])
    [report] = sp.validate(fixtures / "packs/invalid/PK006-invalid-enum-value")
    assert report.count("error") == 1 and "PK006-invalid-enum-value" in repr(report)
    [d] = report.diagnostics
    assert (d.code, d.name, d.severity, d.file, d.pointer, d.line, d.column) == (
        "PK006", "invalid-enum-value", "error", "pack.json", "/layer", 14, 12)
    # The range covers `"addons"` with its quotes; the end is exclusive.
    assert (d.end_line, d.end_column) == (14, 20)
    assert d.help == "did you mean `addon`?"
    assert "PK006" in repr(d)


def test_diagnostic_dict_matches_cli_json(fixtures):
    path = fixtures / "packs/invalid/VL004-image-entry-without-image"
    [report] = sp.validate(path, isolated=True)
    ours = report.to_dict()
    cli = subprocess.run([str(REPO / "target/debug/spectro"), "validate", "--format", "json", str(path)],
                         capture_output=True, text=True)
    if cli.returncode not in (0, 1):
        pytest.skip("spectro binary not built")
    assert ours == json.loads(cli.stdout)["reports"][0]


def test_validate_folder_and_archive(fixtures, tmp_path):
    assert all(r.diagnostics == [] for r in sp.validate(fixtures / "packs/valid"))
    digest = sp.build_archive(fixtures / "packs/invalid/VL004-image-entry-without-image", tmp_path, validate=False)
    assert digest.startswith("sha256:") and len(digest) == 71
    [report] = sp.validate(tmp_path / "hello-universe-1.3.1.tar.gz")
    assert report.archive_root == "hello-universe" and report.path.endswith(".tar.gz")
    [d] = report.diagnostics
    assert d.code == "VL004"


def test_build_archive_refuses_invalid_and_is_reproducible(fixtures, tmp_path):
    with pytest.raises(sp.ArchiveError, match="validation error"):
        sp.build_archive(fixtures / "packs/invalid/PK006-invalid-enum-value", tmp_path)
    a = sp.build_archive(fixtures / "packs/valid/nginx-chart", tmp_path / "a.tar.gz")
    b = sp.build_archive(fixtures / "packs/valid/nginx-chart", tmp_path / "b.tar.gz")
    assert a == b
    with tarfile.open(tmp_path / "a.tar.gz") as t:
        assert t.getnames()[0] == "nginx"


def test_hostile_archive_raises_archive_error(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"pack:\n  namespace: x\n")
    with pytest.raises(sp.ArchiveError, match="not a gzip"):
        sp.validate(bad)


def test_registry_round_trip(fixtures, tmp_path):
    reg = sp.Registry(str(tmp_path / "reg"))
    assert reg.location.startswith("file://")
    digest = reg.push(fixtures / "packs/valid/nginx-chart")
    assert digest.startswith("sha256:")
    assert reg.push(fixtures / "packs/valid/nginx-chart") == digest  # up to date
    [entry] = reg.list()
    assert entry["name"] == "nginx" and entry["versions"][0]["version"] == "1.11.2"
    assert reg.list(name="absent") == []
    out = reg.pull("nginx:1.11.2", tmp_path / "out")
    assert Path(out, "pack.json").is_file()
    arch = reg.pull("nginx", tmp_path / "arch", archive=True)
    assert arch.endswith("nginx-1.11.2.tar.gz")
    info = reg.inspect("nginx")
    assert info["version"] == "1.11.2" and info["manifest_digest"] == digest
    assert info["pack_json"]["name"] == "nginx" and info["archive_digest"].startswith("sha256:")
    reg.tag("nginx:1.11.2", "stable")
    assert {v["version"] for v in reg.list()[0]["versions"]} == {"1.11.2", "stable"}
    reg.delete("nginx:stable")
    reg.delete("nginx:1.11.2")
    assert reg.list() == []
    assert "Registry" in repr(reg)


def test_registry_errors(fixtures, tmp_path):
    reg = sp.Registry(str(tmp_path / "reg"))
    with pytest.raises(sp.NotFoundError) as missing:
        reg.pull("nginx:1.0.0", tmp_path)
    assert missing.value.kind == "not_found" and missing.value.reference == "nginx:1.0.0"
    assert missing.value.status is None
    reg.push(fixtures / "packs/valid/nginx-chart")
    changed = tmp_path / "changed"
    shutil.copytree(fixtures / "packs/valid/nginx-chart", changed)
    (changed / "values.yaml").write_text((changed / "values.yaml").read_text() + "# changed\n")
    with pytest.raises(sp.RegistryError) as exists:
        reg.push(changed)
    assert exists.value.kind == "already_exists" and exists.value.reference == "nginx:1.11.2"
    with pytest.raises(sp.RegistryError, match="uppercase"):
        reg.pull("Nginx:1.0.0", tmp_path)
    assert issubclass(sp.NotFoundError, sp.RegistryError) and issubclass(sp.AuthenticationError, sp.RegistryError)
    # A remote registry is not contacted until the first operation.
    assert sp.Registry("oci://127.0.0.1:5000/base").location == "oci://127.0.0.1:5000/base"
    with pytest.raises(ValueError):
        sp.Registry(str(tmp_path), username="u")
    with pytest.raises(sp.RegistryError, match="invalid reference"):
        sp.Registry("oci://bad_host")


def test_validate_profile(fixtures):
    profiles = sorted((fixtures / "profiles").rglob("*.json")) if (fixtures / "profiles").is_dir() else []
    if not profiles:
        pytest.skip("no profile fixtures")
    for p in profiles:
        report = sp.validate_profile(p, packs=[fixtures / "profiles" / "packs"])
        assert report.kind == "profile" and report.path == str(p) and report.layer is None
        for d in report.diagnostics:
            assert d.code.startswith("PF") and d.severity in ("error", "warning", "info")
    edge = sp.validate_profile(fixtures / "profiles/invalid/PF003-duplicate-core-layer.json")
    assert (edge.name, edge.version) == ("edge-cluster", "1.0.0")
    with pytest.raises(sp.SpectroError):
        sp.validate_profile(fixtures / "does-not-exist.json")


def test_rules_catalogue():
    rules = sp.rules()
    codes = [r["code"] for r in rules]
    assert "PK006" in codes and "PF003" in codes and "SP001" in codes and len(codes) == len(set(codes))
    cli = subprocess.run([str(REPO / "target/debug/spectro"), "rules", "--format", "json"],
                         capture_output=True, text=True)
    if cli.returncode == 0:
        assert rules == json.loads(cli.stdout)


def test_every_exception_is_a_spectro_error():
    for cls in (sp.PackError, sp.ProfileError, sp.ArchiveError, sp.RegistryError, sp.AuthenticationError, sp.NotFoundError):
        assert issubclass(cls, sp.SpectroError) and cls.__module__ == "spectro_packs"


def test_rule_selection(fixtures):
    warn = fixtures / "packs/invalid/PK010-version-leading-v"

    def codes(**kw):
        [report] = sp.validate(warn, **kw)
        return [(d.code, d.severity) for d in report.diagnostics]

    assert codes() == [("PK010", "warning")]
    assert codes(ignore=["PK010"]) == []
    assert codes(select=["VL"]) == []
    assert codes(ignore=["PK"], extend_select=["version-leading-v"]) == [("PK010", "warning")]
    assert codes(severity={"PK010": "error"}) == [("PK010", "error")]
    with pytest.raises(sp.PackError) as bad:
        sp.validate(warn, ignore=["PK999"])
    assert bad.value.kind == "invalid_input"


def test_config_file_and_inline_suppression(fixtures, tmp_path):
    pack = tmp_path / "packs" / "warn"
    shutil.copytree(fixtures / "packs/invalid/PK010-version-leading-v", pack)
    (tmp_path / "spectro.toml").write_text('[lint]\nignore = ["PK010"]\n')
    [report] = sp.validate(pack)
    assert report.diagnostics == [] and report.config == str(tmp_path / "spectro.toml")
    [report] = sp.validate(pack, isolated=True)
    assert [d.code for d in report.diagnostics] == ["PK010"] and report.config is None
    (tmp_path / "other.toml").write_text('[lint.severity]\nPK010 = "info"\n')
    [report] = sp.validate(pack, config=tmp_path / "other.toml")
    assert [(d.code, d.severity) for d in report.diagnostics] == [("PK010", "info")]
    (tmp_path / "spectro.toml").write_text("[lint]\nignor = []\n")
    with pytest.raises(sp.PackError, match="line 2, column 1") as bad:
        sp.validate(pack)
    assert bad.value.kind == "invalid_input" and bad.value.path.endswith("spectro.toml")
    (tmp_path / "spectro.toml").unlink()
    values = pack / "values.yaml"
    values.write_text(values.read_text() + "# spectro: ignore-file[VL003]\n")
    [report] = sp.validate(pack)
    assert [d.code for d in report.diagnostics] == ["PK010", "SP001"]
