//! The web app, embedded at build time (see `build.rs`) and handed to the relay to serve.

include!(concat!(env!("OUT_DIR"), "/app_assets.rs"));

/// The app compiled into this binary (no files when it was built without it).
pub const APP: livret_relay::AppAssets = livret_relay::AppAssets::new(ASSETS);
