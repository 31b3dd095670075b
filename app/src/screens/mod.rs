//! One folder per screen: the device's first run and unlock, home, the dossier editor, and
//! the jury's review inside it.

pub mod editor;
pub mod home;
pub mod jury;
pub mod start;
