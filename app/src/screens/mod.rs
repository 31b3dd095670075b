//! One folder per screen: the device's first run and unlock, home, the dossier editor, the
//! jury's review inside it, and a jury session.

pub mod editor;
pub mod home;
pub mod jury;
pub mod session;
pub mod start;
