#!/usr/bin/env bash
# Installs what running the helpdesk locally needs (scripts/local.sh): Java 17 for DynamoDB
# Local, DynamoDB Local itself, and a Python venv with moto (S3 + SESv2). scripts/setup.sh
# runs it first, then adds what only the tests and the Lambda build need. Idempotent: each
# step checks before it installs, and says nothing when there is nothing to do.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools"

say() { printf '[setup] %s\n' "$*" >&2; }

# Java 17 runs DynamoDB Local.
if ! command -v java >/dev/null 2>&1; then
  say "installing Java 17"
  apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

# DynamoDB Local ships inside the npm package amplify-dynamodb-simulator (emulator/).
if [ ! -f "$tools/ddb/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar" ]; then
  say "installing DynamoDB Local (npm amplify-dynamodb-simulator)"
  npm install --silent --no-audit --no-fund --prefix "$tools/ddb" amplify-dynamodb-simulator@2 >/dev/null 2>&1
fi

# moto's server (S3 + SESv2) in a venv; its server mode runs on flask and flask_cors.
if [ ! -x "$tools/venv/bin/python" ]; then
  say "creating Python venv"
  python3 -m venv "$tools/venv"
fi
if ! "$tools/venv/bin/python" -c 'import moto, flask, flask_cors' >/dev/null 2>&1 \
   || [ ! -x "$tools/venv/bin/moto_server" ]; then
  say "installing moto[server]"
  "$tools/venv/bin/pip" install -q --disable-pip-version-check 'moto[server]>=5.1,<6' >/dev/null
fi
