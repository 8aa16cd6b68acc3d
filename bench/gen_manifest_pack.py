#!/usr/bin/env python3
"""Write a deterministic manifest-heavy pack: 400 manifest files of 600 small YAML documents
each (about 22 MB of YAML), every one listed in pack.json `kubeManifests`, plus 64 MB of
incompressible chart bytes listed in `charts`. The shape issue 16 measured.
Usage: gen_manifest_pack.py OUT_DIR"""
import json, os, random, sys

out = sys.argv[1]
rng = random.Random(20261129)
MiB = 1 << 20
os.makedirs(f"{out}/charts", exist_ok=True)
charts = []
for i in range(4):
    name = f"charts/chart-{i}-1.0.0.tgz"
    with open(f"{out}/{name}", "wb") as f:
        f.write(rng.randbytes(16 * MiB))
    charts.append(name)
os.makedirs(f"{out}/manifests", exist_ok=True)
kinds = ["ConfigMap", "Service", "ServiceAccount", "Secret"]
manifests, total = [], 0
for n in range(400):
    docs = []
    for d in range(600):
        docs.append(
            f"apiVersion: v1\nkind: {rng.choice(kinds)}\nmetadata:\n  name: obj-{n}-{d}\n"
            f"  namespace: bench\ndata:\n  key: \"value-{rng.randint(0, 999999)}\"\n"
        )
    text = "---\n".join(docs)
    name = f"manifests/m-{n:03d}.yaml"
    with open(f"{out}/{name}", "w") as f:
        f.write(text)
    manifests.append(name)
    total += len(text)
json.dump({"name": "manifestpack", "displayName": "Manifest-heavy bench", "version": "1.0.0",
           "layer": "addon", "addonType": "system app", "cloudTypes": ["all"],
           "charts": charts, "kubeManifests": manifests}, open(f"{out}/pack.json", "w"), indent=2)
open(f"{out}/values.yaml", "w").write(
    "pack:\n  namespace: bench\n  content:\n    images:\n      - image: ghcr.io/example/app:1.0.0\n")
print(f"{out}: {len(manifests)} manifests, {total / MiB:.1f} MiB of YAML")
