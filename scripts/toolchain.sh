#!/usr/bin/env bash
# Installs what Livret's build and tests need on a fresh Debian 12 machine that has only
# rustup stable. Idempotent: a second run checks and does nothing.
#
#  - wasm32: a rustup wasm32 target when one is installed; otherwise Debian's rustc-web
#    (Rust 1.96 with its std source, built with -Zbuild-std) and lld-19.
#  - wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock.
#  - chromium + chromium-driver for browser tests, poppler-utils (pdftotext) for PDF checks.
#  - python3-aiosmtpd: a real SMTP server on 127.0.0.1 for the e2e tests of the emails the
#    relay sends (tests/e2e/smtp.rs runs it with Debian's /usr/bin/python3).
#  - axe-core (npm registry) for the accessibility checks of the browser tests, in target/npm.
#  - PostgreSQL and HAProxy (Debian) and moto's S3 server (PyPI, in a virtualenv under
#    /opt/livret-tools) for the tests of several relay nodes, evidence in a bucket.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[toolchain]\033[0m %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# PostgreSQL: the Postgres store's tests start throwaway servers of their own (as the
# `postgres` user the package creates; the package's own cluster is not used).
# HAProxy: the e2e tests run several relay nodes behind deploy/haproxy/livret.cfg.
packages=(chromium chromium-driver poppler-utils python3-aiosmtpd postgresql haproxy python3-venv)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    packages+=(rustc-web cargo-web rust-web-src lld-19)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# rustfmt and clippy are part of the test command.
for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

wanted=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ -z "$wanted" ]; then
    log "no wasm-bindgen in Cargo.lock"; exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wanted"; then
    log "cargo install wasm-bindgen-cli $wanted (a few minutes, once)"
    cargo install --quiet wasm-bindgen-cli --version "$wanted"
fi

# axe-core, pinned; the browser tests inject target/npm/node_modules/axe-core/axe.min.js.
axe_version=4.10.3
axe=target/npm/node_modules/axe-core
if ! grep -qs "\"version\": \"$axe_version\"" "$axe/package.json"; then
    log "npm install axe-core@$axe_version"
    npm install --silent --no-audit --no-fund --prefix target/npm "axe-core@$axe_version" >/dev/null
fi

# moto's S3 server, pinned (5.x answers If-None-Match on PutObject as S3 does), in a
# virtualenv of its own: the tests of evidence in a bucket start it on a loopback port.
moto_version=5.2.6
moto=/opt/livret-tools/moto
installed=$("$moto/bin/python" -m pip show moto 2>/dev/null | sed -n 's/^Version: //p' || true)
if [ "$installed" != "$moto_version" ]; then
    log "pip install moto[server]==$moto_version into $moto"
    as_root mkdir -p "$(dirname "$moto")"
    as_root python3 -m venv "$moto"
    as_root "$moto/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version"
fi
