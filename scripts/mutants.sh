#!/usr/bin/env bash
# Mutation testing of the code that guards access: cargo-mutants (pinned, installed under
# .tools/ on first use) changes one thing at a time in these files and checks that some
# test fails. Not part of CI: it builds once per mutant.
#   MUTANTS_FILES   files to mutate (default: the rule modules below)
#   MUTANTS_SCOPE   unit (default): each mutant against the shared crate's own tests, which
#                   run on the in-memory store (no servers, ~20 s a mutant on 2 cores);
#                   workspace: against every test of the workspace, with DynamoDB Local and
#                   moto started as the test command starts them (minutes a mutant).
# Extra arguments go to cargo-mutants (e.g. --list, -j 2, --in-place). Results: .local/mutants.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
version=27.1.0
bin="$root/.tools/cargo/bin/cargo-mutants"
if ! "$bin" mutants --version 2>/dev/null | grep -q "$version"; then
  echo "[mutants] installing cargo-mutants $version" >&2
  cargo install --quiet --locked cargo-mutants --version "$version" --root "$root/.tools/cargo"
fi
default_files="shared/src/domain/base/access.rs shared/src/domain/safety/blocklist.rs shared/src/domain/base/idempotency.rs
  shared/src/domain/base/caller.rs shared/src/domain/people/participants.rs shared/src/domain/safety/moderation.rs
  shared/src/domain/safety/rules.rs shared/src/store/items.rs shared/src/domain/base/signing.rs
  shared/src/domain/public_links.rs shared/src/domain/mail/reply_address.rs shared/src/domain/mail/inbound.rs
  shared/src/domain/mail/inbound/threads.rs shared/src/domain/mail/inbound/clean.rs shared/src/domain/mail/inbound/scrub.rs
  shared/src/domain/mail/inbound/decode.rs shared/src/domain/mail/notify.rs shared/src/domain/mail/emails.rs
  shared/src/domain/people/auth.rs shared/src/domain/people/authors.rs"
args=()
for file in ${MUTANTS_FILES:-$default_files}; do args+=(--file "$file"); done
mkdir -p .local
case "${MUTANTS_SCOPE:-unit}" in
  unit) args+=(--test-package helpdesk-shared) ;;
  workspace)
    source scripts/services.sh
    ddb_port=$(free_port); moto_port=$(free_port)
    start_services "$ddb_port" "$moto_port" "$root/.local/mutants-logs"
    export HELPDESK_TEST_DYNAMODB="http://127.0.0.1:$ddb_port" HELPDESK_TEST_MOTO="http://127.0.0.1:$moto_port"
    export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
    args+=(--test-workspace true)
    ;;
  *) echo "MUTANTS_SCOPE is unit or workspace" >&2; exit 2 ;;
esac
"$bin" mutants --no-shuffle --output .local "${args[@]}" "$@"
