#!/usr/bin/env bash
# Builds every Lambda function of the template for arm64 (provided.al2023) as zips under
# target/lambda/<function>/bootstrap.zip, with cargo-lambda and zig from scripts/setup.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export PATH="$root/.tools/venv/bin:$PATH"
bins="$(grep -A3 'BuildProperties:' infra/template.yaml | awk '/Binary:/ {print "--bin", $2}') --bin hello-lambda"
# shellcheck disable=SC2086
cargo lambda build --release --arm64 --output-format zip $bins
for zip in target/lambda/*/bootstrap.zip; do
  printf '%-40s %8d bytes\n' "$zip" "$(stat -c %s "$zip")"
done
