/**
 * The web page (src/web/: plain HTML, CSS and ES modules, no build step, no CDN), served from a fixed list of names —
 * a request path is only ever compared with that list, never joined to a folder — with a strict Content-Security-Policy
 * (same-origin scripts, styles and connections only; images and media from the page's own blob:/data: URLs).
 */
import { readFileSync } from 'node:fs';

const WEB_DIR = new URL('../web/', import.meta.url);

const FILES: Readonly<Record<string, { name: string; type: string }>> = {
  '/': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { name: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { name: 'style.css', type: 'text/css; charset=utf-8' },
};

export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

const cache = new Map<string, Buffer>();

/** The page file for a request path, or undefined. Read once and cached. */
export function staticFile(path: string): { body: Buffer; type: string } | undefined {
  const f = FILES[path];
  if (!f) return undefined;
  let body = cache.get(f.name);
  if (!body) {
    body = readFileSync(new URL(f.name, WEB_DIR));
    cache.set(f.name, body);
  }
  return { body, type: f.type };
}
