#!/usr/bin/env python3
"""Push/pull throughput and peak RSS over loopback against CNCF distribution:
spectro vs oras-py vs raw curl, same archive, same registry, same run.

Usage: registry.py SPECTRO REGISTRY ARCHIVE RUNS
Every run uses a fresh repository (oras-py and spectro skip blobs that exist)."""
import hashlib, os, shutil, statistics, subprocess, sys, tempfile, time, uuid

spectro, reg, archive, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
size = os.path.getsize(archive)
h = hashlib.sha256()
with open(archive, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
digest = "sha256:" + h.hexdigest()
name, version = "benchpack", "1.0.0"


def run(argv, **kw):
    """Run a command under GNU time; return (seconds, peak RSS in MiB). (Not wait4's
    rusage: a child forked from this process would report the parent's RSS.)"""
    fd, out = tempfile.mkstemp()
    os.close(fd)
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-o", out, "-f", "%M"] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    dt = time.perf_counter() - t0
    rss = int(open(out).read().split()[-1]) / 1024
    os.unlink(out)
    if p.returncode != 0:
        raise SystemExit(f"failed: {argv}: {p.stderr.decode()}")
    return dt, rss


ORAS = r'''
import logging, sys, oras.client
logging.getLogger("oras").setLevel(logging.ERROR)
op, reg, ref, arg = sys.argv[1:5]
c = oras.client.OrasClient(hostname=reg, insecure=True)
if op == "push":
    import os; os.chdir(os.path.dirname(arg))
    c.push(target=ref, files=[os.path.basename(arg)], disable_path_validation=True, quiet=True)
else:
    c.pull(target=ref, outdir=arg)
'''

CURL_PUSH = r'''
set -e
loc=$(curl -sf -i -X POST "http://$REG/v2/$REPO/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
case "$loc" in http*) ;; *) loc="http://$REG$loc";; esac
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' -T "$FILE" "$loc&digest=$DIGEST")
[ "$code" = 201 ]
'''


def repo(base):
    return f"{base}/spectro-packs/archive/{name}"


results = {k: [] for k in ["spectro push", "oras-py push", "curl push", "spectro pull", "oras-py pull", "curl pull"]}
work = tempfile.mkdtemp(prefix="bench-registry-")
try:
    for i in range(runs):
        for tool in ["spectro", "oras-py", "curl"]:
            base = f"bench{uuid.uuid4().hex[:10]}"
            out = os.path.join(work, f"{tool}-{i}")
            os.makedirs(out)
            ref = f"{reg}/{repo(base)}:{version}"
            if tool == "spectro":
                push = [spectro, "pack", "push", archive, "--no-validate", "--registry", f"oci://{reg}/{base}", "--plain-http"]
                pull = [spectro, "pack", "pull", f"{name}:{version}", "--archive", "-o", out, "--registry", f"oci://{reg}/{base}", "--plain-http"]
            elif tool == "oras-py":
                push = [sys.executable, "-c", ORAS, "push", reg, ref, os.path.abspath(archive)]
                pull = [sys.executable, "-c", ORAS, "pull", reg, ref, out]
            else:
                env = dict(os.environ, REG=reg, REPO=repo(base), FILE=archive, DIGEST=digest)
                push = ["bash", "-c", CURL_PUSH]
                pull = ["curl", "-sf", "-o", os.path.join(out, "blob"), f"http://{reg}/v2/{repo(base)}/blobs/{digest}"]
            results[f"{tool} push"].append(run(push, env=env) if tool == "curl" else run(push))
            results[f"{tool} pull"].append(run(pull))
            got = [os.path.join(dp, f) for dp, _, fs in os.walk(out) for f in fs]
            assert len(got) == 1 and os.path.getsize(got[0]) == size, (tool, got)
            shutil.rmtree(out)
finally:
    shutil.rmtree(work, ignore_errors=True)

print(f"archive: {size / 1e6:.1f} MB, {runs} runs each, fresh repository per run; {os.cpu_count()} cores")
print("(curl push is given the digest; spectro hashes the file itself and checks the registry first)")
mean = {}
for k, v in results.items():
    ts = [t for t, _ in v]
    mean[k] = statistics.mean(ts)
    print(f"{k:14s} mean {mean[k]:.3f}s  min {min(ts):.3f}s  {size / 1e6 / mean[k]:7.0f} MB/s  peak RSS {max(r for _, r in v):6.1f} MiB")
print(f"\npush: spectro = {mean['curl push'] / mean['spectro push'] * 100:.0f}% of raw curl, "
      f"{mean['oras-py push'] / mean['spectro push']:.2f}x oras-py")
print(f"pull: spectro = {mean['oras-py pull'] / mean['spectro pull']:.2f}x oras-py, "
      f"{mean['curl pull'] / mean['spectro pull'] * 100:.0f}% of raw curl")
