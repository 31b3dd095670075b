//! A WebSocket to the relay as an async stream of binary frames.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Poll, Waker};

use js_sys::{ArrayBuffer, Promise, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::i18n;

#[derive(Default)]
struct Inbox {
    frames: RefCell<VecDeque<Vec<u8>>>,
    closed: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Inbox {
    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

pub struct Socket {
    ws: WebSocket,
    inbox: Rc<Inbox>,
    // Kept alive as long as the socket: the browser calls them.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(web_sys::Event)>,
}

impl Socket {
    /// Opens `url` (ws:// or wss://); fails if the relay cannot be reached.
    pub async fn connect(url: &str) -> Result<Socket, String> {
        let ws = WebSocket::new(url).map_err(|_| {
            if i18n::en() {
                format!("invalid server address: {url}")
            } else {
                format!("adresse de serveur invalide : {url}")
            }
        })?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let inbox = Rc::new(Inbox::default());
        let on_message = {
            let inbox = inbox.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                if let Ok(buffer) = e.data().dyn_into::<ArrayBuffer>() {
                    inbox
                        .frames
                        .borrow_mut()
                        .push_back(Uint8Array::new(&buffer).to_vec());
                    inbox.wake();
                }
            })
        };
        let on_close = {
            let inbox = inbox.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                inbox.closed.set(true);
                inbox.wake();
            })
        };
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let opened = Promise::new(&mut |resolve, reject| {
            ws.set_onopen(Some(&resolve));
            ws.set_onerror(Some(&reject));
        });
        let result = JsFuture::from(opened).await;
        ws.set_onopen(None);
        ws.set_onerror(None);
        if result.is_err() {
            // The handlers go with this function's end: the browser must not call them
            // after (its close event follows a failed connection).
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
            return Err(i18n::t("serveur injoignable", "server unreachable").into());
        }
        Ok(Socket {
            ws,
            inbox,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    pub fn send(&self, frame: &[u8]) -> Result<(), String> {
        self.ws.send_with_u8_array(frame).map_err(|_| {
            i18n::t(
                "connexion au serveur perdue",
                "connection to the server lost",
            )
            .into()
        })
    }

    /// Closes the connection now: whoever waits in [`Socket::next`] gets `None` (the browser's
    /// own close event is not waited for — it may come late, or never once offline).
    pub fn close(&self) {
        let _ = self.ws.close();
        self.inbox.closed.set(true);
        self.inbox.wake();
    }

    /// The next frame, or `None` once the connection is closed.
    pub async fn next(&self) -> Option<Vec<u8>> {
        std::future::poll_fn(|cx| {
            if let Some(frame) = self.inbox.frames.borrow_mut().pop_front() {
                return Poll::Ready(Some(frame));
            }
            if self.inbox.closed.get() {
                return Poll::Ready(None);
            }
            *self.inbox.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}
