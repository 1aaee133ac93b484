#!/usr/bin/env bash
# Installs everything the local run, the tests and the Lambda build need. Idempotent: each
# step checks before it installs, so the second run takes seconds.
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

# Headless Chromium and its WebDriver for the page tests, from Debian's packages.
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  say "installing chromium and chromium-driver"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# DynamoDB Local ships inside the npm package amplify-dynamodb-simulator (emulator/).
if [ ! -f "$tools/ddb/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar" ]; then
  say "installing DynamoDB Local (npm amplify-dynamodb-simulator)"
  npm install --silent --no-audit --no-fund --prefix "$tools/ddb" amplify-dynamodb-simulator@2 >/dev/null 2>&1
fi

# Python tools: moto (S3 + SESv2 server), cfn-lint, cargo-lambda and zig for arm64 builds,
# schemathesis, and the SAM CLI (sam validate --lint, sam build).
if [ ! -x "$tools/venv/bin/python" ]; then
  say "creating Python venv"
  python3 -m venv "$tools/venv"
fi
if ! "$tools/venv/bin/python" -c 'import moto, flask, flask_cors, cfnlint, ziglang, schemathesis, samcli' >/dev/null 2>&1 \
   || [ ! -x "$tools/venv/bin/cargo-lambda" ]; then
  say "installing moto[server], cfn-lint, cargo-lambda, ziglang, schemathesis, aws-sam-cli"
  "$tools/venv/bin/pip" install -q --disable-pip-version-check \
    'moto[server]>=5.1,<6' 'cfn-lint>=1.20,<2' 'cargo-lambda>=1.8,<2' 'ziglang>=0.13' 'schemathesis>=4.30,<5' \
    'aws-sam-cli>=1.150,<2' >/dev/null
fi

# Rust components: arm64 target for Lambda, rustfmt and clippy for the checks.
if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed | grep -q aarch64-unknown-linux-gnu; then
    say "adding rust target aarch64-unknown-linux-gnu"
    rustup target add aarch64-unknown-linux-gnu >/dev/null
  fi
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt >/dev/null
fi
say "tools ready in $tools"
