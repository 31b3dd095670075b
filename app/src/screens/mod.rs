//! One folder per screen: the device's first run and unlock, home, the dossier editor, the
//! jury's review inside it, a jury session, and the privacy notice.

pub mod editor;
pub mod home;
pub mod jury;
pub mod privacy;
pub mod session;
pub mod start;
