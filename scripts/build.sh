#!/usr/bin/env bash
# Builds every Lambda function of the template for arm64 (provided.al2023) as zips under
# target/lambda/<function>/bootstrap.zip, with cargo-lambda and zig from scripts/setup.sh; then
# `sam validate --lint` and `sam build` (into target/sam, ready for `sam deploy`), which
# finds those binaries fresh and only copies them.
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
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
sam validate --lint --template infra/template.yaml
# rust-cargolambda is a beta build method of the SAM CLI.
sam build --beta-features --template infra/template.yaml --build-dir target/sam >target/sam-build.log 2>&1 \
  || { tail -n 40 target/sam-build.log; exit 1; }
echo "sam build: $(ls target/sam | grep -c Function) functions in target/sam"
