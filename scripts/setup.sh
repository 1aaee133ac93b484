#!/usr/bin/env bash
# Installs everything the local run, the tests and the Lambda build need: first what running
# needs (scripts/setup-run.sh: Java 17, DynamoDB Local, moto), then what only the tests and
# the build need. Idempotent: each step checks before it installs, so the second run takes
# seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
bash "$root/scripts/setup-run.sh"

say() { printf '[setup] %s\n' "$*" >&2; }

# Headless Chromium and its WebDriver for the page tests, from Debian's packages.
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  say "installing chromium and chromium-driver"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# axe-core audits every page state the browser tests show (the npm package's script,
# injected over WebDriver).
if [ ! -f "$tools/axe/node_modules/axe-core/axe.min.js" ]; then
  say "installing axe-core (npm)"
  npm install --silent --no-audit --no-fund --prefix "$tools/axe" axe-core@4 >/dev/null 2>&1
fi

# Python tools in the run's venv, next to moto: cfn-lint, cargo-lambda and zig for arm64
# builds, schemathesis, and the SAM CLI (sam validate --lint, sam build). moto[server] is
# named again so that pip keeps it working while it resolves the others.
if ! "$tools/venv/bin/python" -c 'import cfnlint, ziglang, schemathesis, samcli' >/dev/null 2>&1 \
   || [ ! -x "$tools/venv/bin/cargo-lambda" ]; then
  say "installing cfn-lint, cargo-lambda, ziglang, schemathesis, aws-sam-cli"
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
