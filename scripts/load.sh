#!/usr/bin/env bash
# A bounded load run against the local gateway (loopback only): throughput, p50/p99, errors,
# and a check that every acknowledged write is in the table. LOAD_SECONDS, LOAD_WORKERS;
# LOAD_PROFILE (default bench-local; CI uses dev, whose dependencies the tests build anyway);
# LOAD_FREEZE_SECONDS=N freezes DynamoDB Local (SIGSTOP) for N s a third of the way in.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
profile=${LOAD_PROFILE:-bench-local}
cargo build --quiet --profile "$profile" --bin load
source scripts/services.sh
ddb_port=$(free_port); moto_port=$(free_port)
start_services "$ddb_port" "$moto_port" "$root/.local/load-logs"
export HELPDESK_TEST_DYNAMODB="http://127.0.0.1:$ddb_port" HELPDESK_TEST_MOTO="http://127.0.0.1:$moto_port"
export LOAD_DYNAMODB_PID="${service_pids[0]}"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
target/$([ "$profile" = dev ] && echo debug || echo "$profile")/load
