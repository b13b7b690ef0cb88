// `nanoclaw dashboard [--open]`: prints the link that opens the dashboard
// already signed in (and opens it in the browser with --open).
import { spawn } from 'node:child_process';
import type { Config } from '../core/config/config.js';
import { apiClient } from './api-client.js';
import { dashboardLink } from './start.js';
import { fetchStatus } from './status.js';
import { flag } from './term.js';

export async function dashboardCommand(args: string[], config: Config): Promise<number> {
  const got = await fetchStatus(config);
  if ('error' in got) {
    process.stderr.write(`${got.error}\n`);
    return got.running ? 1 : 3;
  }
  const api = apiClient(config);
  const link = dashboardLink(api.base, api.token);
  process.stdout.write(`${link}\n`);
  if (flag(args, '--open')) {
    const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
    spawn(opener, [link], { stdio: 'ignore', detached: true })
      .on('error', () => {
        process.stderr.write(`Could not start ${opener}; open the link above in your browser.\n`);
      })
      .unref();
  }
  return 0;
}
