#!/usr/bin/env bash
# Starts DynamoDB Local and moto (S3 + SESv2) on the given ports and stops them when the
# calling script exits. Source it, then: start_services DDB_PORT MOTO_PORT LOG_DIR
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ddb_dir="$root/.tools/ddb/node_modules/amplify-dynamodb-simulator/emulator"
service_pids=()

stop_services() {
  for pid in "${service_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${service_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  service_pids=()
}

wait_for() { # port name log
  for _ in $(seq 1 240); do
    if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()' "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.25
  done
  echo "$2 did not start; its log ($3):" >&2
  tail -n 30 "$3" >&2
  return 1
}

start_services() {
  local ddb_port=$1 moto_port=$2 logs=$3
  mkdir -p "$logs"
  (cd "$ddb_dir" && exec java -Djava.library.path=DynamoDBLocal_lib -jar DynamoDBLocal.jar \
     -inMemory -disableTelemetry -port "$ddb_port") >"$logs/dynamodb.log" 2>&1 &
  service_pids+=($!)
  "$root/.tools/venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$logs/moto.log" 2>&1 &
  service_pids+=($!)
  trap stop_services EXIT
  wait_for "$ddb_port" "DynamoDB Local" "$logs/dynamodb.log"
  wait_for "$moto_port" "moto" "$logs/moto.log"
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
