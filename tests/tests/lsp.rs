//! `spectro lsp` over real stdio: the binary, Content-Length framing, a whole session.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

fn send(stdin: &mut impl Write, msg: &Value) {
    let body = msg.to_string();
    write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    stdin.flush().unwrap();
}

fn recv(out: &mut impl BufRead) -> Value {
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the server closed stdout"
        );
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            len = n.parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    out.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap()
}

#[test]
fn a_session_over_stdio() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().canonicalize().unwrap().join("hello");
    let src = spectro_tests::fixtures().join("packs/valid/hello-universe");
    std::fs::create_dir_all(pack.join("manifests")).unwrap();
    for f in [
        "pack.json",
        "values.yaml",
        "presets.yaml",
        "schema.yaml",
        "logo.png",
        "manifests/hello-universe.yaml",
    ] {
        std::fs::copy(src.join(f), pack.join(f)).unwrap();
    }
    let mut child = Command::new(spectro_tests::spectro_bin())
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "rootUri": null, "capabilities": {}}}),
    );
    let init = recv(&mut out);
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(init["result"]["serverInfo"]["name"], "spectro");
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    );
    // An unsaved pack.json with a typo in `layer`.
    let file = pack.join("pack.json");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("\"layer\": \"addon\"", "\"layer\": \"adon\"");
    let uri = format!("file://{}", file.display());
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "json", "version": 7, "text": text}}}),
    );
    let publish = recv(&mut out);
    assert_eq!(publish["method"], "textDocument/publishDiagnostics");
    assert_eq!(publish["params"]["uri"], uri);
    assert_eq!(publish["params"]["version"], 7);
    let d = &publish["params"]["diagnostics"][0];
    assert_eq!(d["code"], "PK006");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `addon`"),
        "{d}"
    );
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}),
    );
    let bye = recv(&mut out);
    assert_eq!(
        (bye["id"].clone(), bye["result"].clone()),
        (json!(2), Value::Null)
    );
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "exit"}));
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
