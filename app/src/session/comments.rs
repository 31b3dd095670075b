//! Comment threads on the open dossier's fields (the candidate and advisors).

use super::*;

/// Whether this device may read and write comments in the open dossier (the candidate and
/// advisors; a juror has no team key).
pub fn may_comment() -> bool {
    with_open(|r| r.may_comment()).unwrap_or(false)
}

/// The comment threads of the open dossier this device can read.
pub fn comments() -> Comments {
    with_open(|r| r.comments()).unwrap_or_default()
}

/// The name a comment is signed with: the one given, else the safety code (as presence).
pub(super) fn comment_author() -> String {
    let name = my_name();
    if !name.is_empty() {
        return name;
    }
    identity_line()
        .parse::<DeviceId>()
        .map(|id| id.safety_code())
        .unwrap_or_default()
}

/// Comments `field`, or answers the thread `reply_to`, in the open dossier (saved and sent
/// by the caller, like any edit).
pub fn add_comment(field: &str, reply_to: Option<CommentId>, text: &str) -> Result<(), Error> {
    // 16 of the 24 random bytes a nonce is drawn from (the same generator).
    let mut id = [0u8; 16];
    id.copy_from_slice(&random_nonce()[..16]);
    let draft = Draft {
        field: field.to_string(),
        reply_to,
        author: comment_author(),
        text: text.to_string(),
    };
    with_device_and_open(|device, r| {
        r.comment(device, draft, id, now_ms(), random_nonce())
            .map(|_| ())
            .map_err(Error::from)
    })
}

/// Marks a thread resolved, or open again.
pub fn resolve_thread(thread: CommentId, resolved: bool) -> Result<(), Error> {
    let by = comment_author();
    with_device_and_open(|device, r| {
        r.set_thread_resolved(device, thread, resolved, &by, now_ms(), random_nonce())
            .map_err(Error::from)
    })
}
