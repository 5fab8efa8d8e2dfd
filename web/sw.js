// ksim's service worker: keeps the app's own files so the page opens without a network.
// scripts/postbuild.mjs fills in VERSION and FILES (every file of the build).
const VERSION = '__VERSION__';
const FILES = __FILES__;
const CACHE = `ksim-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('ksim-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Network first (a new build shows at once), the saved copy when the network fails.
self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' && request.method !== 'HEAD') return;
  if (url.origin !== self.location.origin || url.searchParams.has('online-check')) return;
  const navigation = request.mode === 'navigate';
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && request.method === 'GET') {
          const copy = response.clone();
          // A page's link (?run=…) is saved as the page itself.
          caches.open(CACHE).then((cache) => cache.put(navigation ? './' : request, copy));
        }
        return response;
      })
      .catch(async () => {
        const saved = navigation ? await caches.match('./') : await caches.match(request, { ignoreSearch: true });
        return saved ?? Response.error();
      }),
  );
});
