// Livret's storage worker: writes each keystroke's sealed delta to IndexedDB off the page's
// thread. On the page, a transaction commits only once the page has run the success
// callback of its last request, so a keystroke typed while the page draws (the sommaire, the
// status line, a long dossier) waited for the drawing before it was safe; here nothing else
// runs, and the commit is asked for at once.
//
// It only ever receives bytes already sealed to the device (the page seals them) and a key.
// The page keeps every other read and write, and waits for what it posted here before any
// of its own (app/src/idb.rs), so a full save or a deletion never crosses a delta in flight.
"use strict";

const STORE = "kv";
const opened = new Map();

function open(name) {
  if (!opened.has(name)) {
    opened.set(
      name,
      new Promise((resolve, reject) => {
        // A throw here rejects the promise; it is forgotten below, so the next write opens
        // again rather than failing for ever.
        const request = indexedDB.open(name, 1);
        request.onupgradeneeded = () => {
          if (!request.result.objectStoreNames.contains(STORE)) {
            request.result.createObjectStore(STORE);
          }
        };
        request.onsuccess = () => {
          const db = request.result;
          // Another connection wants to change or delete the database: let it.
          db.onversionchange = () => {
            db.close();
            opened.delete(name);
          };
          // Closed by the browser (storage cleared, the database server lost): open again.
          db.onclose = () => opened.delete(name);
          resolve(db);
        };
        request.onerror = () => reject(request.error);
      }).catch((error) => {
        opened.delete(name);
        throw error;
      }),
    );
  }
  return opened.get(name);
}

function message(error) {
  return String((error && error.message) || error || "aborted");
}

// Messages are handled in the order they arrive, and so are their transactions: each
// answer says when its write committed (`at`, ms since the epoch, on the worker's clock
// origin plus its own time) or why it did not (`error`).
self.onmessage = (event) => {
  const { id, name, key, value } = event.data;
  open(name)
    .then((db) => {
      const tx = db.transaction(STORE, "readwrite", { durability: "relaxed" });
      tx.oncomplete = () => self.postMessage({ id, at: performance.timeOrigin + performance.now() });
      tx.onabort = () => self.postMessage({ id, error: message(tx.error) });
      tx.objectStore(STORE).put(value, key);
      if (typeof tx.commit === "function") {
        tx.commit();
      }
    })
    .catch((error) => self.postMessage({ id, error: message(error) }));
};
