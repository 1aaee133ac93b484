#!/usr/bin/env bash
# The benchmark: round trips, capacity units and latency per operation through the local
# gateway (next to a raw DynamoDB Local GetItem in the same run), zip sizes, init times.
# SKIP_ZIPS=1 skips the arm64 release build (slow the first time).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
if [ "${SKIP_ZIPS:-}" != 1 ]; then bash scripts/build.sh; fi
bins=$(grep -A3 'BuildProperties:' infra/template.yaml | awk '/Binary:/ {print "--bin", $2}')
# shellcheck disable=SC2086
cargo build --quiet --profile bench-local $bins --bin hello-lambda --bin bench
source scripts/services.sh
ddb_port=$(free_port); moto_port=$(free_port)
start_services "$ddb_port" "$moto_port" "$root/.local/bench-logs"
export HELPDESK_TEST_DYNAMODB="http://127.0.0.1:$ddb_port" HELPDESK_TEST_MOTO="http://127.0.0.1:$moto_port"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
BENCH_BIN_DIR=target/bench-local target/bench-local/bench
