// Preloaded into a host process (NODE_OPTIONS=--import <this file, built>) so a test can see which files it loaded:
// each ES module as it loads, from a load hook, and at exit every CommonJS file in require's cache (packages
// required from CommonJS, native addons), one path or file: URL a line, appended to $RECORD_MODULES_TO.
import fs from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.RECORD_MODULES_TO;
if (file) {
  // Hooks run on their own thread: this one appends each URL itself, so nothing is lost if the host is killed.
  const hook = `import fs from 'node:fs';
export async function load(url, context, next) {
  fs.appendFileSync(${JSON.stringify(file)}, url + '\\n');
  return next(url, context);
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => fs.appendFileSync(file, Object.keys(cache).join('\n') + '\n'));
}
