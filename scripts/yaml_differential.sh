#!/usr/bin/env bash
# Long differential run of the manifest fast path against the YAML parser: generated
# block YAML (with mutations) through both, every result compared. Not part of CI (CI runs
# 4,000 seeds in the unit test); run it after changing spectro-packs/src/syntax/yaml_fast.rs.
#   scripts/yaml_differential.sh [SEEDS] [START]   (default: 2,000,000 seeds from a random start)
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${1:-2000000}
START=${2:-$(( (RANDOM << 30) | (RANDOM << 15) | RANDOM ))}
echo "seeds $START .. $((START + SEEDS)) (rerun a failure with: $0 $SEEDS $START)"
SPECTRO_YAML_SEEDS=$SEEDS SPECTRO_YAML_SEED_START=$START \
    cargo test --release -q -p spectro-packs --lib -- \
    syntax::yaml::tests::fast_scanner_equals_the_parser_on_generated_yaml --exact
