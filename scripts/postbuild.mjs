// Trunk post-build hook: makes the build hostable anywhere under a strict CSP.
// - moves Trunk's inline loader into a file (plus web/boot.js), so the CSP needs no inline script;
// - writes sw.js with the list of the build's files, so the app works offline after a visit.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error('run by trunk: TRUNK_STAGING_DIR is not set');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hash = (text) => createHash('sha256').update(text).digest('hex').slice(0, 16);

const page = join(dir, 'index.html');
let html = readFileSync(page, 'utf8');
const inline = html.match(/<script type="module">([\s\S]*?)<\/script>/);
if (!inline) throw new Error('no inline module script in index.html: did Trunk change its loader?');
const loader = `${inline[1].trim()}\n\n${readFileSync(join(root, 'web', 'boot.js'), 'utf8')}`;
const start = `start-${hash(loader)}.js`;
writeFileSync(join(dir, start), loader);
html = html.replace(inline[0], `<script type="module" src="./${start}"></script>`);
if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html)) throw new Error('an inline script is left in index.html');
if (/(href|src)="\/(?!\/)/.test(html)) throw new Error('an absolute asset path is left in index.html: set public_url = "./"');
writeFileSync(page, html);

const files = readdirSync(dir).filter((f) => f !== 'sw.js' && f !== 'index.html').sort();
const version = hash(html + files.join('\n'));
const worker = readFileSync(join(root, 'web', 'sw.js'), 'utf8')
  .replace('__VERSION__', version)
  .replace('__FILES__', JSON.stringify(['./', ...files.map((f) => `./${f}`)]));
writeFileSync(join(dir, 'sw.js'), worker);
console.log(`postbuild: ${start}, sw.js caching ${files.length + 1} files (version ${version})`);
