// Draws a QR code as an SVG, so the dashboard can show WhatsApp's linking code.
// The encoder is the one vendored inside qrcode-terminal (already a dependency
// for the terminal QR), so no extra package is needed.
import { createRequire } from 'node:module';

interface QrEncoder {
  addData(data: string): void;
  make(): void;
  getModuleCount(): number;
  isDark(row: number, col: number): boolean;
}

const require = createRequire(import.meta.url);

/** An SVG image of `text` as a QR code, one unit per module, with a quiet zone. */
export function qrSvg(text: string, opts: { quiet?: number } = {}): string {
  if (/[^\x20-\x7e]/.test(text)) throw new Error('QR payloads must be printable ASCII.');
  // Required when a QR is drawn (WhatsApp linking), not when the dashboard loads.
  const QRCode = require('qrcode-terminal/vendor/QRCode/index.js') as new (type: number, level: number) => QrEncoder;
  const Level = require('qrcode-terminal/vendor/QRCode/QRErrorCorrectLevel.js') as { L: number; M: number };
  const qr = new QRCode(-1, Level.L);
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const q = opts.quiet ?? 4;
  const size = n + 2 * q;
  // One path of unit squares keeps the image small (a few KB) and crisp at any size.
  let d = '';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + q} ${r + q}h1v1h-1z`;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges" role="img" aria-label="QR code">` +
    `<rect width="${size}" height="${size}" fill="#fff"/><path d="${d}" fill="#000"/></svg>`
  );
}
