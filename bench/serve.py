#!/usr/bin/env python3
"""`spectro registry serve` vs CNCF distribution on the same machine, same run: push and
pull of the same archive with raw curl and with spectro as clients, and the server's
peak RSS.

Usage: serve.py SPECTRO DISTRIBUTION_ADDR SERVE_ADDR SERVE_PID ARCHIVE RUNS
Every run uses a fresh repository."""
import hashlib, os, shutil, statistics, subprocess, sys, tempfile, time, uuid

spectro, dist, ours, ours_pid, archive, runs = sys.argv[1:7]
runs = int(runs)
size = os.path.getsize(archive)
h = hashlib.sha256()
with open(archive, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
digest = "sha256:" + h.hexdigest()
name, version = "benchpack", "1.0.0"

CURL_PUSH = r'''
set -e
loc=$(curl -sf -i -X POST "http://$REG/v2/$REPO/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
case "$loc" in http*) ;; *) loc="http://$REG$loc";; esac
case "$loc" in *\?*) sep='&';; *) sep='?';; esac
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' -T "$FILE" "$loc${sep}digest=$DIGEST")
[ "$code" = 201 ]
'''


def timed(argv, env=None):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"failed: {argv}: {p.stderr.decode()}")
    return dt


def peak_rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


results = {}
work = tempfile.mkdtemp(prefix="bench-serve-")
try:
    for i in range(runs):
        for server, reg in [("distribution", dist), ("spectro serve", ours)]:
            for client in ["curl", "spectro"]:
                base = f"bench{uuid.uuid4().hex[:10]}"
                repo = f"{base}/spectro-packs/archive/{name}"
                out = os.path.join(work, f"{i}-{client}")
                os.makedirs(out)
                if client == "curl":
                    env = dict(os.environ, REG=reg, REPO=repo, FILE=archive, DIGEST=digest)
                    push = timed(["bash", "-c", CURL_PUSH], env)
                    pull = timed(["curl", "-sf", "-o", os.path.join(out, "blob"), f"http://{reg}/v2/{repo}/blobs/{digest}"])
                else:
                    push = timed([spectro, "pack", "push", archive, "--no-validate", "-r", f"oci://{reg}/{base}", "--plain-http"])
                    pull = timed([spectro, "pack", "pull", f"{name}:{version}", "--archive", "-o", out, "-r", f"oci://{reg}/{base}", "--plain-http"])
                got = [os.path.join(dp, f) for dp, _, fs in os.walk(out) for f in fs]
                assert len(got) == 1 and os.path.getsize(got[0]) == size, (server, client, got)
                shutil.rmtree(out)
                results.setdefault((server, client, "push"), []).append(push)
                results.setdefault((server, client, "pull"), []).append(pull)
finally:
    shutil.rmtree(work, ignore_errors=True)

print(f"archive: {size / 1e6:.1f} MB, {runs} runs each, fresh repository per run; {os.cpu_count()} cores")
for client in ["curl", "spectro"]:
    for op in ["push", "pull"]:
        d = statistics.median(results[("distribution", client, op)])
        o = statistics.median(results[("spectro serve", client, op)])
        print(f"{op} with {client:8s}: distribution {size / 1e6 / d:6.0f} MB/s   spectro serve {size / 1e6 / o:6.0f} MB/s   = {d / o:.2f}x distribution")
print(f"spectro serve peak RSS over the whole run: {peak_rss_mib(ours_pid):.1f} MiB")
