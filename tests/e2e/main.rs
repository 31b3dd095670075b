//! End-to-end tests: a real `livret serve` process on 127.0.0.1, real HTTP, a real browser.

mod browser;
mod comments;
mod deletion;
mod durability;
mod export;
mod forged;
mod france_vae;
mod history;
mod hostile_pdf;
mod invitations;
mod jury;
mod limits;
mod nodes;
mod pdf;
mod postgres;
mod presence;
mod revocation;
mod rights;
mod scans;
mod serve;
mod sessions;
mod smtp;
mod suggest;
mod support;
mod sync;
mod webdriver;
