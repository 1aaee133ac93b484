#!/usr/bin/env bash
# Fuzzes the API with schemathesis against its own OpenAPI document (/openapi.json), through
# the local gateway on DynamoDB Local and moto, as a customer, as an agent and anonymously,
# with every check: any 5xx, any response that does not match the document, any request the
# document calls invalid that the API accepted or valid that it refused (the refusals kept on
# purpose are in schemathesis.toml, each with its reason), a missing header accepted, and an
# undeclared method that is not 405 with Allow. Usage: schemathesis.sh DDB_URL MOTO_URL
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
ddb_url=$1 moto_url=$2
examples=${SCHEMATHESIS_EXAMPLES:-20}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cargo build --quiet --bin local-gateway
logs="$root/.local/test-logs"
mkdir -p "$logs"
AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 \
AWS_ENDPOINT_URL_DYNAMODB="$ddb_url" AWS_ENDPOINT_URL_DYNAMODB_STREAMS="$ddb_url" \
AWS_ENDPOINT_URL_SESV2="$moto_url" AWS_ENDPOINT_URL_S3="$moto_url" \
TABLE_NAME="schemathesis_$port" MAIL_FROM=helpdesk@fuzz.test PUBLIC_BASE_URL="http://127.0.0.1:$port" PORT=$port \
RUST_LOG=warn "$root/target/debug/local-gateway" >"$logs/schemathesis-gateway.log" 2>&1 &
gateway=$!
trap 'kill $gateway 2>/dev/null || true' EXIT

# Sign in as the demo admin (agent, project admin, app admin) and as a customer with a request.
tokens=$("$root/.tools/venv/bin/python" - "$port" "$moto_url" <<'PY'
import json, sys, time, urllib.request
base, moto = f"http://127.0.0.1:{sys.argv[1]}", sys.argv[2]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    if token: req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")
for _ in range(200):
    try:
        urllib.request.urlopen(base + "/openapi.json", timeout=1); break
    except Exception:
        time.sleep(0.1)
def sign_in(email):
    call("POST", "/auth/magic-link", {"email": email})
    sent = json.load(urllib.request.urlopen(moto + "/moto-api/data.json"))["ses"]["Message"]
    body = [m for m in sent if email in m["destinations"]["ToAddresses"]][-1]["body"]
    return call("POST", "/auth/session", {"token": body.split("token=")[1].split()[0]})["token"]
agent = sign_in("admin@example.com")
customer = sign_in(f"customer-{sys.argv[1]}@example.com")
throwaway = sign_in(f"throwaway-{sys.argv[1]}@example.com")
call("POST", "/projects/DEMO/requests", {"summary": "fuzz target"}, customer)
print(agent, customer, throwaway)
PY
)
read -r agent customer throwaway <<<"$tokens"

fuzz() { # token [filters...]
  local token=$1 auth=()
  shift
  if [ -n "$token" ]; then auth=(--header "Authorization: Bearer $token"); fi
  "$root/.tools/venv/bin/schemathesis" --config-file "$root/schemathesis.toml" run "http://127.0.0.1:$port/openapi.json" \
    "${auth[@]}" "$@" \
    --checks all \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" --seed 20261123 --workers "${workers:-2}" \
    --request-timeout 10 --no-color
}
run() { # who token [filters...]
  local who=$1 out
  shift
  echo "== schemathesis as $who ($examples examples per operation)"
  out=$(mktemp)
  if fuzz "$@" 2>&1 | tee "$out"; [ "${PIPESTATUS[0]}" -eq 0 ]; then rm -f "$out"; return 0; fi
  # A crash inside the fuzzer itself (CPython 3.11's "AST constructor recursion depth
  # mismatch": Hypothesis parses a module's source in one worker thread while another changes
  # the process-wide recursion limit; reported as a Runtime Error with every check passing) gets
  # one more run, on one worker, where no thread races; any failed check, or a second crash,
  # fails the run.
  if grep -q 'Runtime Error' "$out" && ! grep -q '= FAILURES =' "$out"; then
    echo "== schemathesis crashed without a failed check; running as $who once more, on one worker"
    rm -f "$out"
    workers=1 fuzz "$@"
    return
  fi
  rm -f "$out"
  return 1
}
# Logging out would end the session the rest of the run uses: /auth/session gets its own.
run customer "$customer" --exclude-path /auth/session
run agent "$agent" --exclude-path /auth/session
run "a throwaway session" "$throwaway" --include-path /auth/session
run anonymous ""
