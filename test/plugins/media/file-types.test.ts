import { expect, test } from 'vitest';
import { extensionFor } from '../../../src/plugins/media/file-types.js';

test("a saved file's extension: the sender's if harmless, else one from the MIME type, else the fallback", () => {
  expect(extensionFor('text/plain', 'notes.md')).toBe('md');
  expect(extensionFor('image/png', 'evil.sh')).toBe('png');
  expect(extensionFor('application/octet-stream', 'x.html.exe')).toBe('bin');
  expect(extensionFor(undefined, 'noext')).toBe('bin');
  expect(extensionFor('application/x-tgsticker', undefined, 'tgs')).toBe('tgs');
});
