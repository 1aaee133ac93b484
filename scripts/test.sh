#!/usr/bin/env bash
# Runs every check: formatting, clippy, the template lint, unit tests and the end-to-end tests
# against DynamoDB Local and moto (started here on free ports, stopped on exit).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Each stage says how long the run has taken so far (seconds), so CI's log shows where time goes.
started=$SECONDS
stage() { echo "== $* (at $((SECONDS - started)) s)"; }
bash scripts/setup.sh
source scripts/services.sh

stage "cargo fmt --check"
cargo fmt --all -- --check
stage "sam validate --lint infra/template.yaml (cfn-lint with the SAM transform)"
SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 .tools/venv/bin/sam validate --lint --template infra/template.yaml
stage "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

stage "cargo build --workspace --bins (the functions' bootstrap binaries, for the runtime tests)"
cargo build --workspace --bins --quiet

ddb_port=$(free_port); moto_port=$(free_port)
start_services "$ddb_port" "$moto_port" "$root/.local/test-logs"
export HELPDESK_TEST_DYNAMODB="http://127.0.0.1:$ddb_port"
export HELPDESK_TEST_MOTO="http://127.0.0.1:$moto_port"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
# Schemathesis mostly waits on the gateway, so it runs while the tests compile (both on the
# services started above); its verdict is taken before any test runs.
stage "schemathesis against /openapi.json, alongside compiling the tests"
SCHEMATHESIS_EXAMPLES=${SCHEMATHESIS_EXAMPLES:-25} bash scripts/schemathesis.sh "$HELPDESK_TEST_DYNAMODB" "$HELPDESK_TEST_MOTO" \
  > "$root/.local/test-logs/schemathesis.log" 2>&1 &
schemathesis=$!
cargo test --workspace --all-targets --no-run --quiet
stage "tests compiled; waiting for schemathesis"
wait "$schemathesis" || { tail -n 80 "$root/.local/test-logs/schemathesis.log"; exit 1; }
grep -E '^== schemathesis|Selected:|generated,' "$root/.local/test-logs/schemathesis.log"
stage "cargo test (DynamoDB Local on $ddb_port, moto on $moto_port)"
log="$root/.local/test-logs/cargo-test.log"
set +e
cargo test --workspace --all-targets --no-fail-fast --quiet "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
stage "tests done"
# One closing line over every test binary (cargo prints one result line per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "summary: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
