#!/usr/bin/env bash
# Runs every check: formatting, clippy, the template lint, unit tests and the end-to-end tests
# against DynamoDB Local and moto (started here on free ports, stopped on exit).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
source scripts/services.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cfn-lint infra/template.yaml"
.tools/venv/bin/cfn-lint infra/template.yaml
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

ddb_port=$(free_port); moto_port=$(free_port)
start_services "$ddb_port" "$moto_port" "$root/.local/test-logs"
export HELPDESK_TEST_DYNAMODB="http://127.0.0.1:$ddb_port"
export HELPDESK_TEST_MOTO="http://127.0.0.1:$moto_port"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
echo "== cargo test (DynamoDB Local on $ddb_port, moto on $moto_port)"
cargo test --workspace --quiet "$@"
