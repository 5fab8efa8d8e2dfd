#!/usr/bin/env bash
# make soak: the long fault sweep and mutated-link run, with overflow checks and debug
# assertions on (Cargo profile `soak`), then the issue's links; writes SOAK.md with the counts.
#   KSIM_SWEEP_CASES (100000) schedules, KSIM_LINK_CASES (1000000) mutated links.
set -euo pipefail
cd "$(dirname "$0")/.."
export KSIM_SWEEP_CASES="${KSIM_SWEEP_CASES:-100000}" KSIM_LINK_CASES="${KSIM_LINK_CASES:-1000000}"
out=$(mktemp)
status=0
start=$(date +%s)
cargo test --locked --profile soak --test sweep -- --ignored --nocapture --test-threads 1 soak soak_links >"$out" 2>&1 || status=$?
cargo test --locked --profile soak --test regressions >>"$out" 2>&1 || status=$?
took=$(( $(date +%s) - start ))
{
  echo "# Soak"
  echo
  echo "Written by \`make soak\` ($(date -u +%Y-%m-%d), $(nproc) cores, $(rustc --version | cut -d' ' -f1-2), Cargo profile \`soak\`: optimised, overflow checks and debug assertions on) in $took s."
  echo "Every schedule is a share link: a built-in experiment plus random commands from everything the page and links"
  echo "can issue, then a drain (brokers back, consumers started, producers stopped, then a few records from each)"
  echo "and a run until the model is quiet; see \`tests/common/sweep.rs\` for what is checked. A slow case is one over"
  echo "1 s of wall time per 10 s simulated."
  echo
  echo "## Fault schedules"
  echo
  echo '```'
  grep -E '^(cases|simulated|class|FAILED|  case|replay|rerun|PANIC|SLOW)' "$out" || true
  echo '```'
  echo
  echo "## Mutated links"
  echo
  echo '```'
  grep -E '^(links|PANIC link|BAD MESSAGE|SLOW link)' "$out" || true
  echo '```'
  echo
  echo "## The links of the fault-sweep issue, and Kafka's answer"
  echo
  echo '```'
  grep -E '^test .* \.\.\. ' "$out" | grep -v 'soak' || true
  echo '```'
  [ "$status" -eq 0 ] && echo && echo "Result: 0 violations, 0 panics, 0 slow cases." || { echo; echo "Result: FAILED (exit $status)."; }
} > SOAK.md
cat SOAK.md
exit "$status"
