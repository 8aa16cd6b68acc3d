//! The server on an in-process connection (`Connection::memory()`), driven as an editor
//! would: initialize, open, edit without saving, hover, reconfigure, shut down.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};

use crate::Layer;
use crate::scaffold::{NewPack, new_pack};

struct Client {
    conn: Connection,
    server: Option<JoinHandle<crate::Result<()>>>,
    next_id: i32,
    /// Notifications received while waiting for a response.
    pending: Vec<Notification>,
}

impl Client {
    fn start(encodings: &[&str], options: Value) -> Client {
        Client::start_with(encodings, options, json!({}), Value::Null)
    }

    /// With more client capabilities (`extra`, merged at the top) and workspace folders.
    fn start_with(encodings: &[&str], options: Value, extra: Value, folders: Value) -> Client {
        let (server_end, client_end) = Connection::memory();
        let server = std::thread::spawn(move || super::serve(&server_end));
        let mut c = Client {
            conn: client_end,
            server: Some(server),
            next_id: 0,
            pending: Vec::new(),
        };
        let mut caps = json!({});
        if !encodings.is_empty() {
            caps["general"] = json!({"positionEncodings": encodings});
        }
        for (k, v) in extra.as_object().into_iter().flatten() {
            caps[k] = v.clone();
        }
        let init = c.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": caps,
                   "initializationOptions": options, "workspaceFolders": folders}),
        );
        assert!(init["capabilities"]["hoverProvider"].as_bool().unwrap());
        c.notify("initialized", json!({}));
        c
    }

    fn notify(&self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Notification::new(method.to_owned(), params).into())
            .unwrap();
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.conn
            .sender
            .send(Request::new(id.clone(), method.to_owned(), params).into())
            .unwrap();
        loop {
            match self
                .conn
                .receiver
                .recv_timeout(Duration::from_secs(30))
                .unwrap()
            {
                Message::Response(r) if r.id == id => {
                    return match r.response_result {
                        Ok(v) => v,
                        Err(e) => json!({"error": e.code, "message": e.message}),
                    };
                }
                Message::Notification(n) => self.pending.push(n),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// The next `publishDiagnostics` per file, until `files` have all been published.
    fn publishes(&mut self, files: &[&Path]) -> Vec<(PathBuf, Value)> {
        let mut got: Vec<(PathBuf, Value)> = Vec::new();
        let mut queue: std::collections::VecDeque<Notification> = self.pending.drain(..).collect();
        while !files.iter().all(|f| got.iter().any(|(p, _)| p == f)) {
            let n = match queue.pop_front() {
                Some(n) => n,
                None => match self.conn.receiver.recv_timeout(Duration::from_secs(30)) {
                    Ok(Message::Notification(n)) => n,
                    other => panic!("waiting for {files:?}, got {other:?}"),
                },
            };
            if n.method == "textDocument/publishDiagnostics" {
                let uri = url::Url::parse(n.params["uri"].as_str().unwrap()).unwrap();
                got.push((uri.to_file_path().unwrap(), n.params));
            } else {
                panic!("unexpected notification {n:?}");
            }
        }
        self.pending.extend(queue);
        got
    }

    /// A round trip: everything the server sent before it is in `pending` after it.
    fn sync(&mut self) -> Vec<Notification> {
        let r = self.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": "file:///nonexistent/x.yaml"}, "position": {"line": 0, "character": 0}}),
        );
        assert_eq!(r, Value::Null);
        std::mem::take(&mut self.pending)
    }

    fn open(&self, path: &Path, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(path), "languageId": "yaml", "version": 1, "text": text}}),
        );
    }

    fn change(&self, path: &Path, version: i32, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(path), "version": version}, "contentChanges": changes}),
        );
    }

    fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r, Value::Null);
        self.notify("exit", Value::Null);
        self.server.take().unwrap().join().unwrap().unwrap();
        assert!(self.pending.is_empty(), "left unread: {:?}", self.pending);
    }
}

fn uri(path: &Path) -> String {
    url::Url::from_file_path(path).unwrap().to_string()
}

fn codes(publish: &Value) -> Vec<String> {
    publish["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .collect()
}

fn pack() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_pack(tmp.path(), &NewPack::new("hello", Layer::Addon)).unwrap();
    // Canonical, as an editor's URIs are.
    let dir = dir.canonicalize().unwrap();
    (tmp, dir)
}

#[test]
fn unsaved_edits_are_linted_and_cleared() {
    let (_tmp, dir) = pack();
    let values = dir.join("values.yaml");
    let text = std::fs::read_to_string(&values).unwrap();
    let mut c = Client::start(&[], json!({}));
    c.open(&values, &text);
    let first = c.sync();
    assert!(
        first.is_empty(),
        "a clean pack publishes nothing: {first:?}"
    );
    // Break the namespace in the buffer only (line 2 is `  namespace: "hello"`).
    c.change(
        &values,
        2,
        json!([{"range": {"start": {"line": 1, "character": 14}, "end": {"line": 1, "character": 19}}, "text": "Bad_NS"}]),
    );
    let got = c.publishes(&[&values]);
    let (_, p) = &got[0];
    assert_eq!(codes(p), ["VL002"]);
    assert_eq!(p["version"], 2);
    let d = &p["diagnostics"][0];
    assert_eq!(d["source"], "spectro");
    assert_eq!(d["severity"], 1);
    // The range covers the quoted value: `"Bad_NS"`, characters 13..21.
    assert_eq!(
        d["range"],
        json!({"start": {"line": 1, "character": 13}, "end": {"line": 1, "character": 21}})
    );
    assert!(
        std::fs::read_to_string(&values)
            .unwrap()
            .contains("\"hello\""),
        "disk untouched"
    );

    // Hover on it: the rule's explanation.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&values)}, "position": {"line": 1, "character": 15}}),
    );
    let md = hover["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains("VL002") && md.contains("invalid-namespace") && md.contains("## Why"),
        "{md}"
    );
    let nothing = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&values)}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(nothing, Value::Null);

    // Fixed with a full-text change: the file is cleared with an empty list.
    c.change(&values, 3, json!([{"text": text}]));
    let got = c.publishes(&[&values]);
    assert_eq!(codes(&got[0].1), Vec::<String>::new());

    // Unknown requests get an error, not a crash.
    let r = c.request("textDocument/formatting", json!({}));
    assert_eq!(r["error"], -32601);
    c.shutdown();
}

#[test]
fn an_edit_in_one_file_publishes_findings_in_another() {
    let (_tmp, dir) = pack();
    std::fs::write(
        dir.join("schema.yaml"),
        "pack.namespace:\n  schema: '{{ required | format \"${string}\" }}'\n",
    )
    .unwrap();
    let values = dir.join("values.yaml");
    let schema = dir.join("schema.yaml");
    let mut c = Client::start(&["utf-16"], json!({}));
    c.open(&values, &std::fs::read_to_string(&values).unwrap());
    assert!(c.sync().is_empty());
    // Drop `namespace` from the unsaved values.yaml: schema.yaml (not open) now names a
    // key values.yaml lacks.
    c.change(
        &values,
        2,
        json!([{"range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}, "text": ""}]),
    );
    let got = c.publishes(&[&schema]);
    let (_, p) = got.iter().find(|(f, _)| f == &schema).unwrap();
    assert!(codes(p).contains(&"SC002".to_owned()), "{p}");
    assert_eq!(p.get("version"), None, "not open: no version");
    // Closing the buffer lints the pack from disk again: schema.yaml is cleared.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&values)}}),
    );
    let got = c.publishes(&[&schema]);
    assert!(
        got.iter()
            .all(|(_, p)| codes(p).is_empty() || !codes(p).contains(&"SC002".to_owned()))
    );
    c.shutdown();
}

#[test]
fn columns_follow_the_negotiated_encoding() {
    // pack.json on one line, with an emoji before the bad `layer` value.
    let line = r#"{"name": "hello", "displayName": "Hello 😀", "version": "1.0.0", "layer": "addons", "addonType": "system app", "cloudTypes": ["all"]}"#;
    let chars_before = line[..line.find("\"addons\"").unwrap()].chars().count() as u64;
    for (offered, unit, want) in [
        (vec![], "utf-16", chars_before + 1),
        (vec!["utf-16"], "utf-16", chars_before + 1),
        (
            vec!["utf-8", "utf-16"],
            "utf-8",
            line.find("\"addons\"").unwrap() as u64,
        ),
        (vec!["utf-8", "utf-32"], "utf-32", chars_before),
    ] {
        let (_tmp, dir) = pack();
        let file = dir.join("pack.json");
        let mut c = Client::start(&offered, json!({}));
        c.open(&file, line);
        let got = c.publishes(&[&file]);
        let (_, p) = &got[0];
        let d = p["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == "PK006")
            .unwrap_or_else(|| panic!("{p}"));
        assert_eq!(
            d["range"]["start"]["character"].as_u64(),
            Some(want),
            "{unit}"
        );
        assert_eq!(
            d["range"]["end"]["character"].as_u64(),
            Some(want + 8),
            "{unit}: the range covers `\"addons\"`"
        );
        c.shutdown();
    }
}

#[test]
fn settings_from_the_client_and_the_config_file_apply_without_restart() {
    let (tmp, dir) = pack();
    let values = dir.join("values.yaml");
    let broken = std::fs::read_to_string(&values)
        .unwrap()
        .replace("\"hello\"", "Bad_NS");
    let mut c = Client::start(&[], json!({"ignore": ["VL002"]}));
    c.open(&values, &broken);
    assert!(c.sync().is_empty(), "ignored by initializationOptions");
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"spectro": {"severity": {"VL002": "info"}}}}),
    );
    let got = c.publishes(&[&values]);
    assert_eq!(got[0].1["diagnostics"][0]["severity"], 3);
    // A spectro.toml above the pack is read on every lint.
    std::fs::write(
        tmp.path().join("spectro.toml"),
        "[lint]\nignore = [\"VL\"]\n",
    )
    .unwrap();
    c.change(&values, 2, json!([{"text": broken.clone()}]));
    let got = c.publishes(&[&values]);
    assert!(codes(&got[0].1).is_empty());
    // A bad setting is said once, and the old selection stays.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"spectro": {"ignore": ["VL999"]}}}),
    );
    let n = c
        .conn
        .receiver
        .recv_timeout(Duration::from_secs(30))
        .unwrap();
    let Message::Notification(n) = n else {
        panic!("{n:?}")
    };
    assert_eq!(n.method, "window/showMessage");
    assert!(n.params["message"].as_str().unwrap().contains("VL999"));
    c.shutdown();
}

#[test]
fn hostile_buffers_and_positions_get_findings_not_crashes() {
    let (_tmp, dir) = pack();
    let values = dir.join("values.yaml");
    let mut c = Client::start(&[], json!({}));
    // 100,000 nested flow sequences: a YAML finding (depth limit), not a stack overflow.
    c.open(&values, &"[".repeat(100_000));
    let got = c.publishes(&[&values]);
    assert!(
        codes(&got[0].1).contains(&"YM001".to_owned()),
        "{}",
        got[0].1
    );
    // Positions past the end and inside a surrogate pair are clamped.
    c.change(&values, 2, json!([{"text": "pack:\n  namespace: 😀\n"}]));
    let _ = c.publishes(&[&values]);
    c.change(
        &values,
        3,
        json!([{"range": {"start": {"line": 1, "character": 14}, "end": {"line": 99, "character": 7}}, "text": "x"}]),
    );
    let after = c.sync();
    assert!(
        after
            .iter()
            .all(|n| n.method == "textDocument/publishDiagnostics"),
        "{after:?}"
    );
    // A change to a document that was never opened is ignored.
    c.change(&dir.join("presets.yaml"), 1, json!([{"text": "x: ["}]));
    assert!(c.sync().is_empty());
    // Hover on a closed document: nothing.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&dir.join("nope.yaml"))}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r, Value::Null);
    c.shutdown();
}

#[test]
fn quick_fixes_come_from_data_and_fix_all_applies_them() {
    let (_tmp, dir) = pack();
    let file = dir.join("pack.json");
    // Two fixable findings, a leading `v` and a typo in `layer`, after an emoji.
    let text = r#"{"name": "hello", "displayName": "😀", "version": "v1.0.0", "layer": "adon", "addonType": "system app", "cloudTypes": ["all"]}"#;
    let mut c = Client::start(&[], json!({}));
    c.open(&file, text);
    let got = c.publishes(&[&file]);
    let diags = got[0].1["diagnostics"].as_array().unwrap().clone();
    let pk006 = diags.iter().find(|d| d["code"] == "PK006").unwrap().clone();
    assert_eq!(pk006["data"]["fix"]["newText"], "\"addon\"");
    // A client that sends the diagnostic back with byte columns (Neovim 0.7): the fix
    // still edits the right characters, because its range comes from `data`.
    let mut mangled = pk006.clone();
    mangled["range"]["start"]["character"] = json!(99);
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&file)}, "range": pk006["range"], "context": {"diagnostics": [mangled], "only": ["quickfix"]}}),
    );
    let edit = &actions[0]["edit"]["changes"][uri(&file)][0];
    assert_eq!(actions[0]["title"], "Replace with `addon`");
    assert_eq!(edit["range"], pk006["range"]);
    let mut fixed = text.to_owned();
    super::text::apply_edit(
        &mut fixed,
        serde_json::from_value(edit["range"].clone()).unwrap(),
        edit["newText"].as_str().unwrap(),
        super::text::Encoding::Utf16,
    );
    assert!(fixed.contains(r#""layer": "addon","#), "{fixed}");
    // Fix all: both edits, applied in one go (last first, so ranges stay valid).
    let all = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&file)}, "range": pk006["range"], "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
    );
    assert_eq!(all[0]["kind"], "source.fixAll.spectro");
    let edits = all[0]["edit"]["changes"][uri(&file)].as_array().unwrap();
    assert_eq!(edits.len(), 2);
    let mut fixed = text.to_owned();
    for e in edits.iter().rev() {
        super::text::apply_edit(
            &mut fixed,
            serde_json::from_value(e["range"].clone()).unwrap(),
            e["newText"].as_str().unwrap(),
            super::text::Encoding::Utf16,
        );
    }
    assert!(
        fixed.contains(r#""version": "1.0.0", "layer": "addon""#),
        "{fixed}"
    );
    c.change(&file, 2, json!([{"text": fixed}]));
    let got = c.publishes(&[&file]);
    let left = codes(&got[0].1);
    assert!(
        !left.contains(&"PK006".to_owned()) && !left.contains(&"PK010".to_owned()),
        "{left:?}"
    );
    c.shutdown();
}

#[test]
fn a_broken_config_clears_findings_and_is_said_once() {
    let (tmp, dir) = pack();
    let values = dir.join("values.yaml");
    let broken = std::fs::read_to_string(&values)
        .unwrap()
        .replace("\"hello\"", "Bad_NS");
    let mut c = Client::start(&[], json!({}));
    c.open(&values, &broken);
    assert_eq!(codes(&c.publishes(&[&values])[0].1), ["VL002"]);
    std::fs::write(tmp.path().join("spectro.toml"), "[lint]\nignor = []\n").unwrap();
    c.change(&values, 2, json!([{"text": broken.clone()}]));
    let sent = c.sync();
    let methods: Vec<&str> = sent.iter().map(|n| n.method.as_str()).collect();
    assert_eq!(
        methods,
        ["textDocument/publishDiagnostics", "window/showMessage"]
    );
    assert_eq!(sent[0].params["diagnostics"], json!([]));
    assert!(
        sent[1].params["message"]
            .as_str()
            .unwrap()
            .contains("ignor")
    );
    // The same failure again: nothing new is said.
    c.change(&values, 3, json!([{"text": broken.clone()}]));
    assert!(c.sync().is_empty());
    // Fixed: the findings come back.
    std::fs::remove_file(tmp.path().join("spectro.toml")).unwrap();
    c.change(&values, 4, json!([{"text": broken}]));
    assert_eq!(codes(&c.publishes(&[&values])[0].1), ["VL002"]);
    // `settings: null` (pull-model clients) keeps the current selection.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    assert_eq!(codes(&c.publishes(&[&values])[0].1), ["VL002"]);
    c.shutdown();
}

#[test]
fn hovers_on_keys_and_completion_come_from_the_schemas() {
    let (_tmp, dir) = pack();
    let file = dir.join("pack.json");
    let mut c = Client::start(&["utf-16"], json!({}));
    // An emoji before the key: the hover position is in UTF-16 units.
    let text = "{\"displayName\": \"😀\", \"layer\": \"addon\", \n";
    c.open(&file, text);
    let _ = c.publishes(&[&file]);
    let col = text[..text.find("layer").unwrap()].encode_utf16().count() + 1;
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&file)}, "position": {"line": 0, "character": col}}),
    );
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.starts_with("**layer**") && md.contains("`k8s`"), "{md}");
    // Completion after the trailing comma: keys not yet present.
    let items = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri(&file)}, "position": {"line": 0, "character": text.trim_end().encode_utf16().count() + 1}}),
    );
    let labels: Vec<&str> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"cloudTypes"), "{labels:?}");
    assert!(!labels.contains(&"layer"), "{labels:?}");
    c.shutdown();
}

#[test]
fn a_fifty_megabyte_paste_is_a_finding_not_a_hang() {
    let (_tmp, dir) = pack();
    let values = dir.join("values.yaml");
    let mut c = Client::start(&[], json!({}));
    let big = "k: v\n".repeat(10 << 20);
    c.open(&values, &big);
    let got = c.publishes(&[&values]);
    assert!(
        codes(&got[0].1).contains(&"FS002".to_owned()),
        "{}",
        got[0].1
    );
    c.shutdown();
}

#[test]
fn files_changed_on_disk_relint_the_packs_the_editor_shows() {
    let (_tmp, dir) = pack();
    let values = dir.join("values.yaml");
    let pack_json = dir.join("pack.json");
    let mut c = Client::start(&[], json!({}));
    c.open(&values, &std::fs::read_to_string(&values).unwrap());
    let _ = c.sync();
    // pack.json is not open; a tool rewrites it with a bad layer.
    let text = std::fs::read_to_string(&pack_json)
        .unwrap()
        .replace("\"addon\"", "\"adon\"");
    std::fs::write(&pack_json, text).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&pack_json), "type": 2}]}),
    );
    let got = c.publishes(&[&pack_json]);
    assert!(
        codes(&got[0].1).contains(&"PK006".to_owned()),
        "{}",
        got[0].1
    );
    // A change in a pack nobody has open is not linted.
    let other = tempfile::tempdir().unwrap();
    let elsewhere = new_pack(other.path(), &NewPack::new("other", Layer::Addon)).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&elsewhere.join("pack.json")), "type": 2}]}),
    );
    assert!(c.sync().is_empty());
    c.shutdown();
}

#[test]
fn clients_that_can_watch_files_are_asked_to() {
    let (server_end, client) = Connection::memory();
    let server = std::thread::spawn(move || super::serve(&server_end));
    let caps = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    client
        .sender
        .send(
            Request::new(
                RequestId::from(1),
                "initialize".into(),
                json!({"capabilities": caps}),
            )
            .into(),
        )
        .unwrap();
    client
        .sender
        .send(Notification::new("initialized".into(), json!({})).into())
        .unwrap();
    let mut registered = None;
    while registered.is_none() {
        match client
            .receiver
            .recv_timeout(Duration::from_secs(30))
            .unwrap()
        {
            Message::Request(r) if r.method == "client/registerCapability" => registered = Some(r),
            _ => {}
        }
    }
    let r = registered.unwrap();
    let watchers = &r.params["registrations"][0]["registerOptions"]["watchers"];
    assert!(
        watchers
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["globPattern"] == "**/spectro.toml"),
        "{watchers}"
    );
    // The client's answer is taken quietly; then a clean shutdown.
    client
        .sender
        .send(lsp_server::Response::new_ok(r.id, Value::Null).into())
        .unwrap();
    client
        .sender
        .send(Request::new(RequestId::from(2), "shutdown".into(), Value::Null).into())
        .unwrap();
    client
        .sender
        .send(Notification::new("exit".into(), Value::Null).into())
        .unwrap();
    server.join().unwrap().unwrap();
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A workspace with the profile fixtures' packs in `packs/` and a valid export in
/// `profiles/edge.json`.
fn profile_workspace() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("profiles/packs"),
        &tmp.path().join("packs"),
    );
    let profile = tmp.path().join("profiles/edge.json");
    std::fs::create_dir_all(profile.parent().unwrap()).unwrap();
    let text =
        std::fs::read_to_string(fixtures().join("profiles/valid/edge-cluster.json")).unwrap();
    std::fs::write(&profile, &text).unwrap();
    (tmp, profile, text)
}

#[test]
fn profiles_are_linted_against_the_workspace_packs_from_the_buffer() {
    let (tmp, profile, text) = profile_workspace();
    let folders = json!([{"uri": uri(tmp.path()), "name": "ws"}]);
    let mut c = Client::start_with(&[], json!({}), json!({}), folders);
    c.open(&profile, &text);
    let got = c.publishes(&[&profile]);
    // Resolved against the workspace's packs: the two wildcard tags, nothing else.
    assert_eq!(codes(&got[0].1), ["PF015", "PF015"], "{:?}", got[0].1);
    // An unsaved edit naming a pack version the workspace does not have.
    let broken = text.replace("\"3.27.2\"", "\"3.99.1\"");
    assert_ne!(broken, text);
    c.change(&profile, 2, json!([{"text": broken}]));
    let got = c.publishes(&[&profile]);
    let found = codes(&got[0].1);
    assert!(found.contains(&"PF014".to_owned()), "{found:?}");
    let d = got[0].1["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "PF014")
        .unwrap()
        .clone();
    // The range is the tag's quoted value, `"3.99.1"`, from the library's end.
    assert_eq!(
        d["range"],
        json!({"start": {"line": 51, "character": 17}, "end": {"line": 51, "character": 25}})
    );
    // A pack added on disk and saved: profiles see it.
    copy_tree(
        &tmp.path().join("packs/cni-calico/3.27.2"),
        &tmp.path().join("packs/cni-calico/3.99.1"),
    );
    let pack_json = tmp.path().join("packs/cni-calico/3.99.1/pack.json");
    let pj = std::fs::read_to_string(&pack_json)
        .unwrap()
        .replace("3.27.2", "3.99.1");
    std::fs::write(&pack_json, pj).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&pack_json), "type": 1}]}),
    );
    let got = c.publishes(&[&profile]);
    assert!(
        !codes(&got[0].1).contains(&"PF014".to_owned()),
        "{:?}",
        got[0].1
    );
    // Closing a profile clears its findings.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&profile)}}),
    );
    let got = c.publishes(&[&profile]);
    assert!(codes(&got[0].1).is_empty());
    // Other JSON in the workspace is not a profile, nor is a Kubernetes object (which has
    // `spec` and `spec.template` too).
    let other = tmp.path().join("package.json");
    c.open(&other, "{\"name\": \"x\"}");
    let deployment = tmp.path().join("deployment.yaml");
    c.open(
        &deployment,
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers: []\n",
    );
    assert!(c.sync().is_empty());
    c.shutdown();
}

#[test]
fn pull_model_clients_are_asked_for_settings_and_rules_link_to_docs() {
    let (_tmp, dir) = pack();
    let values = dir.join("values.yaml");
    let broken = std::fs::read_to_string(&values)
        .unwrap()
        .replace("\"hello\"", "Bad_NS");
    let caps = json!({"workspace": {"configuration": true}});
    let mut c = Client::start_with(&[], json!({}), caps, Value::Null);
    // After `initialized`, the server asks for the `spectro` section.
    let ask = |c: &mut Client| -> RequestId {
        match c
            .conn
            .receiver
            .recv_timeout(Duration::from_secs(30))
            .unwrap()
        {
            Message::Request(r) => {
                assert_eq!(r.method, "workspace/configuration");
                assert_eq!(r.params["items"][0]["section"], "spectro");
                r.id
            }
            other => panic!("expected a configuration request, got {other:?}"),
        }
    };
    let id = ask(&mut c);
    let answer = |c: &Client, id: RequestId, settings: Value| {
        c.conn
            .sender
            .send(lsp_server::Response::new_ok(id, json!([settings])).into())
            .unwrap();
    };
    answer(
        &c,
        id,
        json!({"severity": {"VL002": "warning"}, "rulesUrl": "https://docs.example.org/rules#{code}"}),
    );
    c.open(&values, &broken);
    let got = c.publishes(&[&values]);
    let d = &got[0].1["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["severity"].as_u64()),
        (Some("VL002"), Some(2))
    );
    assert_eq!(
        d["codeDescription"]["href"],
        "https://docs.example.org/rules#VL002"
    );
    // A `null` change notification: asked again, and the answer applies at once.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    let id = ask(&mut c);
    answer(&c, id, json!({"ignore": ["VL002"]}));
    let got = c.publishes(&[&values]);
    assert!(codes(&got[0].1).is_empty(), "{:?}", got[0].1);
    // The user removed every setting: the answer is `null`, and the defaults apply again.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    let id = ask(&mut c);
    answer(&c, id, Value::Null);
    let got = c.publishes(&[&values]);
    let d = &got[0].1["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["severity"].as_u64()),
        (Some("VL002"), Some(1))
    );
    assert!(d.get("codeDescription").is_none(), "{d}");
    c.shutdown();
}

#[test]
fn hovers_on_macros_say_what_they_resolve_to_and_yaml_keys_complete() {
    let (tmp, _profile, _) = profile_workspace();
    let folders = json!([{"uri": uri(tmp.path()), "name": "ws"}]);
    let mut c = Client::start_with(&["utf-16"], json!({}), json!({}), folders);
    let values = tmp.path().join("packs/nginx/1.11.2/values.yaml");
    // An emoji before the macro: positions are UTF-16 units.
    let text = "pack:\n  namespace: nginx\n  note: \"😀 {{ .spectro.pack.cni-calico.pack.namespace }}\"\n  who: '{{ .spectro.system.user.email | lower }}'\n";
    c.open(&values, text);
    c.sync();
    let hover = |c: &mut Client, line: u32, character: u32| -> String {
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri(&values)}, "position": {"line": line, "character": character}}),
        );
        r["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // `  note: "😀 {{ ` is 14 UTF-16 units: the macro starts after it.
    let shown = hover(&mut c, 2, 20);
    assert!(
        shown.contains("`cni-calico` 3.27.2 has") && shown.contains("calico-system"),
        "{shown}"
    );
    let shown = hover(&mut c, 3, 20);
    assert!(
        shown.contains("email") && shown.contains("`lower`"),
        "{shown}"
    );
    // Outside the braces: no macro hover.
    assert!(!hover(&mut c, 2, 4).contains("Palette macro"));
    // Completion in presets.yaml: the keys a preset may still have.
    let presets = tmp.path().join("packs/nginx/1.11.2/presets.yaml");
    c.open(&presets, "presets:\n  - name: a\n    \n");
    c.sync();
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri(&presets)}, "position": {"line": 2, "character": 4}}),
    );
    let labels: Vec<&str> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"group") && !labels.contains(&"name"),
        "{labels:?}"
    );
    c.pending.clear();
    c.shutdown();
}

/// The byte offset of an LSP position, computed the plain way (for the property below):
/// walk the line's characters adding up units; inside a character or past the end, clamp.
fn model_offset(text: &str, line: u32, unit: u32, enc: &str) -> usize {
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find(['\n', '\r']) {
            Some(i) => {
                start += i + 1;
                if text[start - 1..].starts_with("\r\n") {
                    start += 1;
                }
            }
            None => return text.len(),
        }
    }
    let end = text[start..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| start + i);
    let mut seen = 0u32;
    for (i, ch) in text[start..end].char_indices() {
        let w = match enc {
            "utf-8" => ch.len_utf8() as u32,
            "utf-16" => ch.len_utf16() as u32,
            _ => 1,
        };
        if seen + w > unit {
            return start + i;
        }
        seen += w;
    }
    end
}

fn last_publish(notes: &[Notification], file: &Path) -> Value {
    notes
        .iter()
        .rev()
        .filter(|n| n.method == "textDocument/publishDiagnostics")
        .find(|n| n.params["uri"] == uri(file))
        .map_or(json!([]), |n| n.params["diagnostics"].clone())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]

    /// Random incremental edits (ranges anywhere, inside surrogate pairs and past the end,
    /// text with emoji, CJK and line breaks) in every encoding: the server's buffer ends
    /// where a plain model of the edits ends, which a fresh full open confirms, and the
    /// server never fails.
    #[test]
    fn random_incremental_edits_end_where_a_full_sync_would(
        edits in proptest::collection::vec(
            (0u32..8, 0u32..30, 0u32..3, 0u32..12, "[a-z😀日 :\"\n-]{0,5}"),
            1..10,
        ),
        enc in proptest::sample::select(vec!["utf-8", "utf-16", "utf-32"]),
    ) {
        let (_tmp, dir) = pack();
        let values = dir.join("values.yaml");
        let mut model = std::fs::read_to_string(&values).unwrap()
            .replacen("pack:", "pack:\n  note: \"😀 日本語 𝄞\"", 1);
        let mut c = Client::start(&[enc], json!({}));
        c.open(&values, &model);
        for (version, (line, ch, dl, dc, new_text)) in edits.into_iter().enumerate() {
            let end = (line + dl, if dl == 0 { ch + dc } else { dc });
            let range = json!({"start": {"line": line, "character": ch},
                               "end": {"line": end.0, "character": end.1}});
            c.change(&values, version as i32 + 2, json!([{"range": range, "text": new_text}]));
            let a = model_offset(&model, line, ch, enc);
            let b = model_offset(&model, end.0, end.1, enc).max(a);
            model.replace_range(a..b, &new_text);
        }
        let edited = last_publish(&c.sync(), &values);
        c.pending.clear();
        c.shutdown();
        let mut fresh = Client::start(&[enc], json!({}));
        fresh.open(&values, &model);
        let full = last_publish(&fresh.sync(), &values);
        fresh.pending.clear();
        fresh.shutdown();
        proptest::prop_assert_eq!(edited, full);
    }
}
