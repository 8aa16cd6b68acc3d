"""`spectro lsp` over stdio, driven by pytest-lsp with the capabilities real editors
recorded (Neovim 0.7 and 0.11, VS Code, Emacs 29). pytest-lsp fails a test when the
server sends what the client did not advertise, or breaks the protocol."""
import os
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SPECTRO_BIN", str(REPO / "target/debug/spectro"))
CLIENTS = ["neovim@v0.7.0", "neovim@v0.11.0", "visual-studio-code@v1.65.2", "emacs@v29.1"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[BIN, "lsp"]), params=CLIENTS)
async def client(lsp_client: LanguageClient, request):
    # Editors that can watch files for a server (VS Code, Emacs) get asked to; answer as
    # they do, and keep what was asked for the test below.
    lsp_client.registrations = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams):
        lsp_client.registrations.extend(params.registrations)

    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities(request.param)))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def pack(tmp_path):
    dst = tmp_path / "hello"
    shutil.copytree(REPO / "fixtures/packs/valid/hello-universe", dst)
    return dst.resolve()


def encoding_of(client: LanguageClient) -> str:
    offered = (client.capabilities.general and client.capabilities.general.position_encodings) or []
    return "utf-32" if "utf-32" in offered else "utf-8" if "utf-8" in offered else "utf-16"


async def test_unsaved_edit_shows_a_finding_with_the_right_column_and_fix(client: LanguageClient, pack):
    values = pack / "values.yaml"
    uri = values.as_uri()
    text = values.read_text().replace("namespace: hello-universe", "namespace: 😀Bad_NS", 1)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
    await client.wait_for_notification("textDocument/publishDiagnostics")
    [d] = [d for d in client.diagnostics[uri] if d.code == "VL002"]
    assert d.severity == types.DiagnosticSeverity.Error and d.source == "spectro"
    line = text.splitlines()[d.range.start.line]
    assert line.startswith("  namespace: 😀Bad_NS")
    # The value starts at character 13 in every unit; it ends after the emoji and six
    # characters, which count 1, 2 or 4 units.
    emoji = {"utf-32": 1, "utf-16": 2, "utf-8": 4}[encoding_of(client)]
    assert (d.range.start.character, d.range.end.character) == (13, 13 + emoji + 6)

    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=d.range.start))
    assert "invalid-namespace" in hover.contents.value

    # Without the emoji the rule knows the fix: a quick fix carried in the diagnostic.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text.replace("😀", ""))]))
    await client.wait_for_notification("textDocument/publishDiagnostics")
    [d] = [d for d in client.diagnostics[uri] if d.code == "VL002"]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=d.range,
        context=types.CodeActionContext(diagnostics=[d], only=[types.CodeActionKind.QuickFix])))
    [fix] = actions
    [edit] = fix.edit.changes[uri]
    assert edit.new_text == "bad-ns" and edit.range == d.range


async def test_a_fix_in_one_buffer_clears_another_file(client: LanguageClient, pack):
    values = pack / "values.yaml"
    schema_uri = (pack / "schema.yaml").as_uri()
    text = values.read_text()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=values.as_uri(), language_id="yaml", version=1,
                                             text=text.replace("    replicas: 1\n", ""))))
    await client.wait_for_notification("textDocument/publishDiagnostics")
    assert any(d.code == "SC002" for d in client.diagnostics.get(schema_uri, [])), client.diagnostics
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=values.as_uri(), version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    await client.wait_for_notification("textDocument/publishDiagnostics")
    assert list(client.diagnostics[schema_uri]) == []


async def test_editors_that_watch_files_are_asked_to_watch_the_packs(client: LanguageClient, pack):
    caps = client.capabilities.workspace
    can = bool(caps and caps.did_change_watched_files and caps.did_change_watched_files.dynamic_registration)
    # A request after initialization makes sure the registration (sent first) arrived.
    await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=(pack / "pack.json").as_uri()),
        position=types.Position(line=0, character=0)))
    methods = [r.method for r in client.registrations]
    assert methods == (["workspace/didChangeWatchedFiles"] if can else []), methods


async def test_a_profile_resolves_packs_from_the_packs_setting_and_hovers_its_keys(client: LanguageClient, tmp_path):
    packs = tmp_path / "packs"
    shutil.copytree(REPO / "fixtures/profiles/packs", packs)
    profile = tmp_path / "profiles" / "edge.json"
    profile.parent.mkdir()
    text = (REPO / "fixtures/profiles/invalid/PF014-pack-not-found.json").read_text()
    profile.write_text(text)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"spectro": {"packs": [str(packs)]}}))
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=profile.as_uri(), language_id="json", version=1, text=text)))
    await client.wait_for_notification("textDocument/publishDiagnostics")
    found = client.diagnostics[profile.as_uri()]
    [missing] = [d for d in found if d.code == "PF014" and "cni-calico" in d.message]
    line = text.splitlines()[missing.range.start.line]
    assert '"tag": "3.99.x"' in line, line
    # Hover on a profile key: the description from the profile schema.
    layer_line = next(i for i, l in enumerate(text.splitlines()) if '"layer"' in l)
    character = text.splitlines()[layer_line].index('"layer"') + 2
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=profile.as_uri()),
        position=types.Position(line=layer_line, character=character)))
    assert hover is not None and "layer" in hover.contents.value.lower(), hover
