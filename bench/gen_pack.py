#!/usr/bin/env python3
"""Write a deterministic ~200 MB synthetic pack: random binaries (incompressible), base64
text (semi-compressible) and thousands of small YAML manifests (compressible).
Usage: gen_pack.py OUT_DIR"""
import base64, json, os, random, sys

out = sys.argv[1]
rng = random.Random(20261125)
MiB = 1 << 20
os.makedirs(f"{out}/charts", exist_ok=True)
for i, size in enumerate((64, 32)):
    with open(f"{out}/charts/blob-{i}.bin", "wb") as f:
        f.write(rng.randbytes(size * MiB))
with open(f"{out}/charts/bundle.b64", "wb") as f:
    for _ in range(40):
        f.write(base64.encodebytes(rng.randbytes(768 * 1024)))
keys = ["replicas", "image", "tag", "namespace", "enabled", "resources", "limits", "cpu", "memory",
        "port", "service", "ingress", "annotations", "labels", "app", "version", "config", "true"]
written, n = 0, 0
while written < 60 * MiB:
    d = f"{out}/manifests/group{n // 400:03d}"
    os.makedirs(d, exist_ok=True)
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: cm-{n}", "data:"]
    lines += [f'  {rng.choice(keys)}_{i}: "{rng.choice(keys)}-{rng.randint(0, 999999)}"' for i in range(rng.randint(40, 400))]
    data = ("\n".join(lines) + "\n").encode()
    with open(f"{d}/cm-{n:05d}.yaml", "wb") as f:
        f.write(data)
    written += len(data)
    n += 1
json.dump({"name": "benchpack", "displayName": "Bench", "version": "1.0.0", "layer": "addon"}, open(f"{out}/pack.json", "w"))
open(f"{out}/values.yaml", "w").write("pack:\n  namespace: bench\n")
print(f"{out}: {n} manifests")
