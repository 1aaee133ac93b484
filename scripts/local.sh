#!/usr/bin/env bash
# Starts the whole helpdesk on localhost: DynamoDB Local, moto (S3 + SESv2) and the local
# gateway serving every route of infra/template.yaml on one port, with the demo project seeded.
# PORT (default 3000) and MOTO_PORT (default 5000) move it; DYNAMODB_PORT (default 8000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Only what running needs (Java, DynamoDB Local, moto): the tests' tools come with scripts/test.sh.
bash scripts/setup-run.sh
source scripts/services.sh

port=${PORT:-3000}
moto_port=${MOTO_PORT:-5000}
ddb_port=${DYNAMODB_PORT:-8000}
cargo build --quiet --bin local-gateway
start_services "$ddb_port" "$moto_port" "$root/.local/logs"

export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port"
export AWS_ENDPOINT_URL_DYNAMODB_STREAMS="http://127.0.0.1:$ddb_port"
export AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$moto_port"
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$moto_port"
export TABLE_NAME=${TABLE_NAME:-helpdesk}
export MAIL_FROM=${MAIL_FROM:-helpdesk@desk.localhost.test}
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:$port}
export PORT=$port

cat <<MSG
The helpdesk runs on http://127.0.0.1:$port
  in a browser: http://127.0.0.1:$port/login as admin@example.com, then the agent console at /desk
  sign in:      curl -X POST http://127.0.0.1:$port/auth/magic-link -d '{"email":"admin@example.com"}'
  the emails:   http://127.0.0.1:$moto_port/moto-api/data.json  (ses.Message: each magic link has token=...)
  then:         curl -X POST http://127.0.0.1:$port/auth/session -d '{"token":"<token>"}'
  demo project: DEMO, whose admin admin@example.com is also app admin
Ctrl-C stops everything.
MSG
"$root/target/debug/local-gateway"
