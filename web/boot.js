// Started after the WebAssembly app (appended to Trunk's loader by scripts/postbuild.mjs).
// Keeps the app's own files for offline use and says when the page runs without a network.

const OFFLINE_TEXT = 'Offline: ksim is running from the copy this browser saved. Everything still works here, links included.';

function offlineNote() {
  let note = document.getElementById('offline-note');
  if (!note) {
    note = document.createElement('p');
    note.id = 'offline-note';
    note.setAttribute('role', 'status');
    note.textContent = OFFLINE_TEXT;
    note.hidden = true;
    document.body.append(note);
  }
  return note;
}

// Whether the page's own server answers: a request the service worker lets through uncached.
async function serverAnswers() {
  if (!navigator.onLine) return false;
  try {
    const response = await fetch(`./sw.js?online-check=${Date.now()}`, { cache: 'no-store' });
    return response.ok;
  } catch {
    return false;
  }
}

async function showNetworkState() {
  offlineNote().hidden = await serverAnswers();
}

if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('./sw.js').catch(() => {
    // A host that does not serve sw.js only loses offline use.
  });
  showNetworkState();
  window.addEventListener('online', showNetworkState);
  window.addEventListener('offline', showNetworkState);
}
