// After `vite build`: a gzip copy beside every asset, which Photon's web process sends to
// browsers that accept it (the assets are immutable, so they are compressed once, here).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const assets = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'dist', 'assets');
let raw = 0;
let packed = 0;
for (const name of fs.readdirSync(assets)) {
  if (!/\.(js|css|svg|json|map)$/.test(name)) continue;
  const body = fs.readFileSync(path.join(assets, name));
  const gz = zlib.gzipSync(body, { level: 9 });
  fs.writeFileSync(path.join(assets, `${name}.gz`), gz);
  raw += body.length;
  packed += gz.length;
}
console.log(`gzip copies: ${(raw / 1024).toFixed(1)} KB of assets -> ${(packed / 1024).toFixed(1)} KB`);
