#!/usr/bin/env bash
# Installs what ksim needs to build, serve and test, from the package registries only.
# Idempotent: every step checks first and does nothing when the right version is there.
#   scripts/setup.sh build   - wasm target, trunk, wasm-bindgen-cli, wasm-opt (npm binaryen)
#   scripts/setup.sh test    - the above plus clippy/rustfmt, chromium, chromedriver, playwright-core
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-build}"
TRUNK_VERSION=0.21.14
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$PWD/node_modules/.bin:$CARGO_BIN:$PATH"

say() { printf 'setup: %s\n' "$*"; }

# wasm-bindgen-cli must equal the wasm-bindgen that Cargo.lock resolved, or trunk tries GitHub.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "setup: wasm-bindgen not found in Cargo.lock" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! trunk --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (takes a few minutes once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile pins a crate version the registry does not serve.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! command -v npm >/dev/null 2>&1; then
  say "installing nodejs and npm"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi

# wasm-opt from npm binaryen 132 (Debian's binaryen 108 produces a blank page) and playwright-core.
if ! wasm-opt --version 2>/dev/null | grep -q 'version 132' || [ ! -d node_modules/playwright-core ]; then
  say "installing npm packages (binaryen 132, playwright-core)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "$what" = test ]; then
  for c in clippy rustfmt; do
    rustup component list --installed | grep -q "^$c" || rustup component add "$c"
  done
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    say "installing chromium and chromium-driver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
  fi
fi
say "ready (trunk $TRUNK_VERSION, wasm-bindgen $WASM_BINDGEN_VERSION, $(wasm-opt --version))"
