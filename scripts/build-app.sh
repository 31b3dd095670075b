#!/usr/bin/env bash
# Builds the web app (leptos → wasm32 → wasm-bindgen) into target/app-dist, which
# `livret` embeds when it is compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/toolchain.sh

# The wasm build has its own target directory: it may use another compiler than the native one.
target_dir=target-wasm
out=target/app-dist
# Both modules from one cargo invocation: the dependencies they share are compiled once and
# the two long single-threaded links (fat LTO, one codegen unit) run side by side (measured
# on a clean target: 593 s for one invocation per module, 435 s for one). Cargo unifies
# livret-shared's features, so the app's copy is compiled with the PDF module's `pdf` and
# `pdf-export`; the app calls none of that code and LTO drops it (measured: the app's
# download 1,460,197 bytes gzipped built so, 1,461,417 built alone). It was not so while the
# app read référentiels itself (+390 KB then): the relay reads them now.
build_wasm() {
    if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
        cargo build --quiet --profile wasm-release --target wasm32-unknown-unknown "$@" --target-dir "$target_dir"
    else
        RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19 \
        RUSTFLAGS='--cfg getrandom_backend="wasm_js" -Zlocation-detail=none' \
            /usr/bin/cargo build --quiet --profile wasm-release --target wasm32-unknown-unknown \
            -Zbuild-std=std,panic_abort "$@" --target-dir "$target_dir"
    fi
}
build_wasm -p livret-app -p livret-app-pdf

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
# The name section (function names, for debuggers) is a third of the gzipped download: not shipped.
bindgen_flags=(--target web --no-typescript --remove-name-section --remove-producers-section)
wasm-bindgen "${bindgen_flags[@]}" --out-name livret_app --out-dir "$staging" \
    "$target_dir/wasm32-unknown-unknown/wasm-release/livret-app.wasm"
# The PDF export, a module of its own that the app loads when a livret is exported.
wasm-bindgen "${bindgen_flags[@]}" --out-name livret_pdf --out-dir "$staging/pdf" \
    "$target_dir/wasm32-unknown-unknown/wasm-release/livret_app_pdf.wasm"
# No wasm-opt pass: Debian 12's binaryen (108) predates the reference-types output of this
# Rust/wasm-bindgen and produces a module that fails at start-up (WebAssembly.Table.set).
cp app/index.html app/style.css "$staging/"
# The storage worker: writes each keystroke's sealed delta off the page's thread.
cp app/idb-worker.js "$staging/"
# Fonts the PDF export embeds (fetched by the app, cached by its service worker).
mkdir -p "$staging/fonts"
cp app/fonts/DejaVuSans.ttf app/fonts/DejaVuSans-Bold.ttf app/fonts/LICENSE-DejaVu.txt "$staging/fonts/"
# The built-in référentiels (the seed documents): the relay serves each as JSON
# (`referentiels/NAME.json`, read by its reader from NAME.txt), fetched by the home page
# rather than carried in the wasm with a reader that every screen downloads and compiles.
mkdir -p "$staging/referentiels"
cp fixtures/referentiels/00[0-4]-*.txt "$staging/referentiels/"
referentiels=$(cd "$staging" && for f in referentiels/*.txt; do printf '"/%s", ' "${f%.txt}.json"; done)
# The service worker's cache is named after what it keeps: a new build replaces the old copy.
version=$(cat "$staging"/livret_app_bg.wasm "$staging"/livret_app.js "$staging"/index.html "$staging"/style.css "$staging"/idb-worker.js \
    "$staging"/pdf/livret_pdf_bg.wasm "$staging"/pdf/livret_pdf.js "$staging"/referentiels/*.txt \
    | sha256sum | cut -c1-16)
sed -e "s/__LIVRET_APP_VERSION__/$version/" -e "s|\"__LIVRET_REFERENTIELS__\"|${referentiels%, }|" \
    app/sw.js > "$staging/sw.js"
# A placeholder left would make the service worker's install fail, and the app lose offline use.
if grep -q __LIVRET_ "$staging/sw.js"; then
    echo "[build-app] sw.js: a placeholder was not replaced" >&2
    exit 1
fi

# Replace the dist only when something changed, so cargo does not rebuild `livret` for nothing.
mkdir -p "$out"
if ! diff -rq "$staging" "$out" >/dev/null 2>&1; then
    rm -rf "$out"
    mkdir -p "$out"
    cp -r "$staging"/. "$out"/
fi
wasm_bytes=$(stat -c %s "$out/livret_app_bg.wasm")
gz_bytes=$(cat "$out/livret_app_bg.wasm" "$out/livret_app.js" | gzip -9 | wc -c)
printf '[build-app] %s: wasm %d bytes, wasm+js gzip %d bytes\n' "$out" "$wasm_bytes" "$gz_bytes" >&2
pdf_gz_bytes=$(cat "$out/pdf/livret_pdf_bg.wasm" "$out/pdf/livret_pdf.js" | gzip -9 | wc -c)
printf '[build-app] PDF module (loaded at the first export): wasm+js gzip %d bytes\n' "$pdf_gz_bytes" >&2
