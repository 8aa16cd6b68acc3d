#!/usr/bin/env python3
"""Keystroke-to-findings latency of `spectro lsp`, and its memory with the corpus open.

    bench/lsp_latency.py [SPECTRO_BIN] [CORPUS_DIR]

Opens values.yaml of every corpus pack version (all in one server), then types into each
buffer: every keystroke is an incremental `didChange` of one character followed by a
`hover` request. The server handles messages in order and lints before it answers, so
the hover's round trip is the time until the pack's findings are published. Prints
p50/p95/max over all packs, the same for the largest pack, and the server's peak RSS.
Standard library only.
"""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/release/spectro")
CORPUS = Path(sys.argv[2] if len(sys.argv) > 2 else ROOT.parent / "shared/corpus/pack-central")
KEYS = 20


class Server:
    def __init__(self):
        self.p = subprocess.Popen([BIN, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        length = 0
        while True:
            line = self.p.stdout.readline().strip()
            if not line:
                break
            if line.startswith(b"Content-Length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.p.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            msg = self.read()
            if msg.get("id") == self.next_id:
                return msg

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    packs = sorted(p.parent for p in CORPUS.glob("*/*/pack.json") if (p.parent / "values.yaml").is_file())
    if not packs:
        sys.exit(f"no packs under {CORPUS}")
    s = Server()
    s.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    s.notify("initialized", {})
    per_pack = {}
    for n, pack in enumerate(packs):
        values = pack / "values.yaml"
        uri = values.resolve().as_uri()
        text = values.read_text(errors="replace")
        s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
        lines = text.count("\n")
        times = []
        for k in range(KEYS):
            # Type at the end of the file, in a comment line, one character per keystroke.
            ch = "#" if k == 0 else "x"
            t0 = time.perf_counter()
            s.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": 2 + k},
                "contentChanges": [{"range": {"start": {"line": lines + 1, "character": 0},
                                              "end": {"line": lines + 1, "character": 0}}, "text": ch}]})
            s.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}})
            times.append((time.perf_counter() - t0) * 1000)
        per_pack[pack] = times
    rss = 0
    with open(f"/proc/{s.p.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1]) / 1024
    s.request("shutdown", None)
    s.notify("exit", None)
    s.p.wait()
    every = [t for ts in per_pack.values() for t in ts]
    size = lambda p: sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    largest = max(per_pack, key=size)
    big = per_pack[largest]
    print(f"spectro lsp: {len(per_pack)} packs open, {KEYS} keystrokes each ({len(every)} in all)")
    print(f"  all packs:  p50 {statistics.median(every):.2f} ms  p95 {pct(every, 0.95):.2f} ms  max {max(every):.2f} ms")
    print(f"  largest ({largest.parent.name}/{largest.name}, {size(largest) / 1e6:.1f} MB): "
          f"p50 {statistics.median(big):.2f} ms  p95 {pct(big, 0.95):.2f} ms  max {max(big):.2f} ms")
    print(f"  peak RSS with every pack open: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
