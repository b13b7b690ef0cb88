// The WhatsApp plugin: a linked device (`nanoclaw auth whatsapp`, credentials in
// store/auth/whatsapp) and ASSISTANT_HAS_OWN_NUMBER=true when the assistant has
// a number of its own instead of speaking through the user's.
import { identityQueries } from './identities.js';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { HomePaths } from '../../core/config/home.js';
import type { ChannelPlugin, PluginEnv, Settings } from '../../core/channels/plugin.js';
import { isWhatsAppDirectChat, isWhatsAppJid } from './jids.js';
import type { WhatsAppChannelOptions } from './whatsapp.js';

export interface WhatsAppSettings {
  hasOwnNumber: boolean;
  /** WhatsApp Web's WebSocket address, when it goes through a relay (WHATSAPP_WS_URL). */
  webSocketUrl: string | null;
}

export function whatsappSettings(env: Settings): WhatsAppSettings {
  return { hasOwnNumber: env.ASSISTANT_HAS_OWN_NUMBER === 'true', webSocketUrl: env.WHATSAPP_WS_URL?.trim() || null };
}

export function whatsappAuthDir(paths: HomePaths): string {
  return path.join(paths.auth, 'whatsapp');
}

/** WhatsApp runs once it has been linked (`nanoclaw auth whatsapp`). */
export function whatsappLinked(paths: HomePaths): boolean {
  return fs.existsSync(path.join(whatsappAuthDir(paths), 'creds.json'));
}

export interface LinkOptions {
  phone?: string;
  /** How long the phone has to link once the code is shown. */
  timeoutMs?: number;
  /** How long WhatsApp has to offer a QR or pairing code at all. */
  codeTimeoutMs?: number;
  out?: NodeJS.WritableStream;
  makeSocket?: WhatsAppChannelOptions['makeSocket'];
  /** Hands each QR or pairing code over (the dashboard) instead of drawing it on the terminal. */
  onLinking?: (linking: { qr?: string; pairingCode?: string }) => void;
}

function seconds(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} minutes` : `${Math.round(ms / 1000)} s`;
}

/**
 * Links WhatsApp in this process: shows the QR code (or a pairing code for
 * `phone`) on the terminal and waits until the phone has linked. What stands
 * in the way (no network, a refused number) is printed as it happens. A
 * running WhatsApp channel that was logged out picks the new credentials up
 * from store/auth/whatsapp; `nanoclaw auth` has a host without one start it.
 */
export async function linkWhatsApp(env: PluginEnv, opts: LinkOptions = {}): Promise<void> {
  const out = opts.out ?? process.stdout;
  const { config, paths } = env;
  const settings = whatsappSettings(env.env);
  // Loaded here, so listing the plugins (every CLI command does) stays light.
  const [{ openStore }, { createLogger }] = await Promise.all([
    import('../../core/store/index.js'),
    import('../../core/logger.js'),
  ]);
  const store = openStore(paths.db);
  const logger = createLogger({ level: 'warn', logsDir: paths.logs });
  const again = 'Run "nanoclaw auth whatsapp" to try again.';
  const what = opts.phone ? 'pairing code' : 'QR code';
  let lastProblem: string | null = null;
  let settle!: { linked: () => void; failed: (err: Error) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { linked: resolve, failed: reject };
  });
  // It may fail while connect() is still under way; it is awaited below.
  done.catch(() => {});
  const codeTimeout = opts.codeTimeoutMs ?? 60_000;
  const linkTimeout = opts.timeoutMs ?? 5 * 60_000;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, message: () => string) => {
    clearTimeout(timer);
    timer = setTimeout(() => settle.failed(new Error(message())), ms);
  };
  arm(
    codeTimeout,
    () =>
      `WhatsApp offered no ${what} within ${seconds(codeTimeout)}${lastProblem ? ` (${lastProblem})` : ''}. ${again}`,
  );
  let codeShown = false;
  // The channel module owns the Baileys protocol; here we only drive its linking.
  const { createWhatsAppChannel } = await import('./whatsapp.js');
  const channel = createWhatsAppChannel({
    authDir: whatsappAuthDir(paths),
    assistantName: config.assistantName,
    hasOwnNumber: settings.hasOwnNumber,
    logger,
    identities: identityQueries(store.db),
    pairingPhone: opts.phone,
    printQr: !opts.onLinking,
    webSocketUrl: settings.webSocketUrl ?? undefined,
    makeSocket: opts.makeSocket,
    onProblem: (problem, retryInMs) => {
      lastProblem = problem;
      if (retryInMs === null) return settle.failed(new Error(`${problem}. ${again}`));
      out.write(`! ${problem}. Trying again in ${Math.max(1, Math.round(retryInMs / 1000))} s (Ctrl-C to stop).\n`);
    },
  });
  out.write(
    opts.phone
      ? `Asking WhatsApp for a pairing code for ${opts.phone}…\n`
      : 'Scan the QR code below with WhatsApp on your phone: Settings → Linked devices → Link a device.\n',
  );
  try {
    await channel.connect({
      onMessage: () => {},
      onChat: () => {},
      onState: (s) => {
        if (s.connected) return settle.linked();
        if (s.linking) opts.onLinking?.(s.linking);
        if (s.linking && !codeShown) {
          // A code is on screen: from now on the phone has the longer wait.
          codeShown = true;
          arm(linkTimeout, () => `WhatsApp was not linked within ${seconds(linkTimeout)}. ${again}`);
        }
      },
    });
    await done;
    // Give the credential writes a moment to land before closing the socket.
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    clearTimeout(timer);
    await channel.disconnect().catch(() => {});
    store.close();
  }
}

/** Linking from the dashboard: the same link flow, with codes handed over and problems reported instead of printed. */
export function dashboardLink(makeSocket?: LinkOptions['makeSocket']): NonNullable<ChannelPlugin['link']> {
  return async (env, { phone, onLinking, onProblem }) => {
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        const line = chunk.toString().trim();
        if (line.startsWith('! ')) onProblem(line.slice(2));
        done();
      },
    });
    await linkWhatsApp(env, { phone, out, onLinking, makeSocket });
  };
}

/** `nanoclaw auth whatsapp`: links in this process, then has a running NanoClaw connect it. */
export function whatsappAuth(makeSocket?: LinkOptions['makeSocket']): NonNullable<ChannelPlugin['auth']> {
  return {
    usage: 'whatsapp [--phone <number with country code>]',
    async run(ctx) {
      const running = await ctx.running();
      const wa = running?.find((c) => c.name === 'whatsapp');
      if (wa?.connected) {
        ctx.out.write('WhatsApp is already linked and connected.\n');
        return 0;
      }
      if (wa) {
        ctx.err.write(
          `NanoClaw is running and its WhatsApp channel is ${wa.linking ? "waiting to be linked: scan the QR code on the dashboard's Channels page" : 'reconnecting'}. To link from here instead, stop NanoClaw first.\n`,
        );
        return 1;
      }
      await linkWhatsApp(ctx, { phone: ctx.option('--phone'), out: ctx.out, makeSocket });
      ctx.out.write(
        `WhatsApp is linked (credentials in ${path.relative(ctx.config.home, whatsappAuthDir(ctx.paths))}).\n`,
      );
      // A running NanoClaw starts it now, as the dashboard does after a link; otherwise it says what to run.
      const started = await ctx.startChannel('whatsapp');
      ctx.out.write(`${started ? started.message : await ctx.restartHint()}\n`);
      return 0;
    },
  };
}

export const whatsappPlugin: ChannelPlugin = {
  name: 'whatsapp',
  label: 'WhatsApp',
  ownsJid: isWhatsAppJid,
  isDirectChat: isWhatsAppDirectChat,
  configured: ({ paths }) => whatsappLinked(paths),

  async start(ctx) {
    // Baileys loads only once a device is linked, to keep an idle host small.
    const { createWhatsAppChannel } = await import('./whatsapp.js');
    return createWhatsAppChannel({
      authDir: whatsappAuthDir(ctx.paths),
      assistantName: ctx.config.assistantName,
      hasOwnNumber: whatsappSettings(ctx.config.env).hasOwnNumber,
      logger: ctx.logger,
      media: ctx.media,
      identities: ctx.store.identities,
      webSocketUrl: whatsappSettings(ctx.config.env).webSocketUrl ?? undefined,
      notifyOwner: ctx.notifyOwner,
      onLinkLost: (reason) =>
        ctx.notifyOwner(
          `WhatsApp is no longer linked (${reason}). Run "nanoclaw auth whatsapp" to link it again; messages to WhatsApp wait until then.`,
        ),
    });
  },

  auth: whatsappAuth(),

  doctor: ({ paths }) => [
    whatsappLinked(paths)
      ? { name: 'WhatsApp', level: 'ok', detail: 'linked' }
      : { name: 'WhatsApp', level: 'info', detail: 'not linked (optional): "nanoclaw auth whatsapp"' },
  ],

  async setup(ctx) {
    const wa = (
      await ctx.ask.ask('   Link WhatsApp now? You will scan a QR code with your phone. [y/N] ')
    ).toLowerCase();
    if (wa !== 'y' && wa !== 'yes') return;
    try {
      await linkWhatsApp(ctx, { out: ctx.out });
      ctx.out.write(`   ${ctx.paint.ok('✓')} WhatsApp linked.\n`);
    } catch (err) {
      ctx.out.write(`   ${ctx.paint.bad('✗')} ${(err as Error).message}\n`);
    }
  },

  link: dashboardLink(),

  setupHint: {
    before: 'Link a phone with ',
    command: 'nanoclaw auth whatsapp',
    after: '; a running NanoClaw connects it at once.',
  },
  linkHelp: {
    qr: 'On your phone: WhatsApp → Settings → Linked devices → Link a device, and scan this code. It refreshes every few seconds until linked.',
    pairingCode:
      'On your phone: Settings → Linked devices → Link a device → Link with phone number instead, then enter:',
  },
};
