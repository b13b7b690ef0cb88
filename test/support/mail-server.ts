// A real mail system on 127.0.0.1 for the email tests, in a temporary folder: Dovecot (IMAP, submission,
// LMTP into Maildir) and Postfix (the MTA mail arrives through, and that Dovecot's submission relays to).
// Mail a test "receives" is sent through Postfix's SMTP as a real sender's server would; what the assistant
// sends goes out through Dovecot's submission, through Postfix, into the recipient's Maildir, where it is
// counted. Needs Debian's dovecot-imapd, dovecot-submissiond, dovecot-lmtpd and postfix (.ci/run installs
// them), and root (Postfix's master and Dovecot's login processes drop to their own users).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface MailUser {
  address: string;
  password: string;
}

export interface MailServer {
  dir: string;
  imapPort: number;
  submissionPort: number;
  /** Postfix's SMTP: where mail from the outside arrives. */
  smtpPort: number;
  users: { owner: MailUser; landlord: MailUser; friend: MailUser };
  /** Delivers a raw RFC 5322 message to `to` through Postfix, as another server would; resolves once it is in the Maildir. */
  deliver(from: string, to: string, raw: string): Promise<void>;
  /** Messages in a user's folder, counted in the Maildir on disk (new + cur). */
  count(address: string, folder?: string): number;
  /** Raw messages in a user's folder, oldest first. */
  messages(address: string, folder?: string): string[];
  /** Waits until a folder holds `n` messages (re-checking on every change to the Maildir). */
  waitForCount(address: string, n: number, folder?: string, timeoutMs?: number): Promise<void>;
  /** Waits until `check` holds for a folder's raw messages (oldest first), re-checking as the count changes. */
  waitUntil(address: string, check: (raws: string[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** The env a NanoClaw home needs to use the owner's account. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** A mail from outside to the owner, as raw RFC 5322 text (a fresh Message-ID unless `extra` gives one). */
  letter(from: string, subject: string, body: string, extra?: string[]): string;
  /** Stops Dovecot (every IMAP connection drops) and starts it again; resolves once it listens. */
  restartImap(): Promise<void>;
  /** What Dovecot and Postfix logged, for a failure's message. */
  log(): string;
  stop(): Promise<void>;
}

const REQUIRED = [
  ['/usr/sbin/dovecot', 'dovecot-imapd'],
  ['/usr/lib/dovecot/submission', 'dovecot-submissiond'],
  ['/usr/lib/dovecot/lmtp', 'dovecot-lmtpd'],
  ['/usr/lib/postfix/sbin/master', 'postfix'],
] as const;

function missing(): string | null {
  const gone = REQUIRED.filter(([file]) => !fs.existsSync(file)).map(([, pkg]) => pkg);
  if (gone.length)
    return `The email tests need a real mail server: apt-get install ${gone.join(' ')} (missing here; .ci/run installs them).`;
  if (process.getuid?.() !== 0)
    return 'The email tests start Dovecot and Postfix, which need root to drop to their own users: run them as root (as CI does).';
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, what: string, logs: () => string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > until) throw new Error(`${what} did not listen on 127.0.0.1:${port}. Its log:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function dovecotConf(dir: string, p: { imap: number; submission: number; lmtp: number; relay: number }): string {
  return `protocols = imap submission lmtp
listen = 127.0.0.1
base_dir = ${dir}/dovecot-run
state_dir = ${dir}/dovecot-state
log_path = /dev/stderr
ssl = no
# Local tests only: plain passwords over an unencrypted loopback connection.
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
first_valid_uid = 0
mail_location = maildir:${dir}/mail/%u
hostname = mail.example.test
submission_relay_host = 127.0.0.1
submission_relay_port = ${p.relay}
submission_relay_trusted = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${dir}/mail/%u
}
namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${p.imap}
  }
  inet_listener imaps {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    address = 127.0.0.1
    port = ${p.submission}
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${p.lmtp}
  }
}
`;
}

function postfixMain(dir: string, lmtp: number): string {
  return `compatibility_level = 3.6
queue_directory = ${dir}/postfix-queue
data_directory = ${dir}/postfix-data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = example.test
virtual_transport = lmtp:inet:127.0.0.1:${lmtp}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
# No maillog_file: its postlogd socket fills up and blocks every daemon that logs. (Syslog, if any, gets the log.)
smtputf8_enable = no
biff = no
message_size_limit = 52428800
`;
}

function postfixMaster(smtp: number): string {
  return [
    `127.0.0.1:${smtp} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'lmtp unix - - n - - lmtp',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    '',
  ].join('\n');
}

export async function startMailServer(): Promise<MailServer> {
  const problem = missing();
  if (problem) throw new Error(problem);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-mail-'));
  fs.chmodSync(dir, 0o755);
  const [imap, submission, lmtp, smtp] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const users = {
    owner: { address: 'owner@example.test', password: 'owner-app-password-1' },
    landlord: { address: 'landlord@example.test', password: 'landlord-password-2' },
    friend: { address: 'friend@example.test', password: 'friend-password-3' },
  };
  fs.writeFileSync(
    path.join(dir, 'passwd'),
    Object.values(users)
      .map((u) => `${u.address}:{PLAIN}${u.password}::::::\n`)
      .join(''),
  );
  for (const sub of ['mail', 'dovecot-run', 'dovecot-state']) fs.mkdirSync(path.join(dir, sub));
  spawnSync('chown', ['dovecot:dovecot', path.join(dir, 'mail')]);
  fs.writeFileSync(path.join(dir, 'dovecot.conf'), dovecotConf(dir, { imap, submission, lmtp, relay: smtp }));
  const pf = path.join(dir, 'postfix');
  fs.mkdirSync(pf);
  fs.mkdirSync(path.join(dir, 'postfix-queue'));
  fs.mkdirSync(path.join(dir, 'postfix-data'));
  spawnSync('chown', ['postfix', path.join(dir, 'postfix-data')]);
  fs.writeFileSync(path.join(pf, 'main.cf'), postfixMain(dir, lmtp));
  fs.writeFileSync(path.join(pf, 'master.cf'), postfixMaster(smtp));

  let log = '';
  const keep = (p: ChildProcess, name: string) => {
    p.stdout?.on('data', (d: Buffer) => (log += `[${name}] ${d.toString()}`));
    p.stderr?.on('data', (d: Buffer) => (log += `[${name}] ${d.toString()}`));
  };
  const startDovecot = () => {
    const p = spawn('/usr/sbin/dovecot', ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: 'pipe' });
    keep(p, 'dovecot');
    return p;
  };
  let dovecot = startDovecot();
  // `postfix check` creates the queue's folders with their owners; then the master runs in the foreground.
  const check = spawnSync('/usr/sbin/postfix', ['-c', pf, 'check'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`postfix check failed: ${check.stderr}`);
  // Its own process group: the master's children (smtpd, qmgr, …) are stopped with it.
  const postfix = spawn('/usr/lib/postfix/sbin/master', ['-d', '-c', pf], { stdio: 'pipe', detached: true });
  keep(postfix, 'postfix');
  const stop = async () => {
    for (const p of [postfix, dovecot]) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const gone = new Promise((r) => p.once('exit', r));
      if (p === postfix && p.pid) process.kill(-p.pid, 'SIGTERM');
      else p.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(imap, 'Dovecot IMAP', () => log);
    await waitForPort(submission, 'Dovecot submission', () => log);
    await waitForPort(smtp, 'Postfix SMTP', () => log);
  } catch (err) {
    await stop();
    throw err;
  }

  const folderDir = (address: string, folder = 'INBOX') =>
    path.join(dir, 'mail', address, folder === 'INBOX' ? '' : `.${folder}`);
  const files = (address: string, folder?: string) =>
    ['new', 'cur'].flatMap((sub) => {
      const d = path.join(folderDir(address, folder), sub);
      return fs.existsSync(d) ? fs.readdirSync(d).map((f) => path.join(d, f)) : [];
    });
  const count = (address: string, folder?: string) => files(address, folder).length;

  const waitForCount = async (address: string, n: number, folder?: string, timeoutMs = 20_000) => {
    const until = Date.now() + timeoutMs;
    // The Maildir may not exist until the first delivery: poll its parent cheaply (no fixed sleep decides the result).
    while (count(address, folder) < n) {
      if (Date.now() > until)
        throw new Error(
          `${address}'s ${folder ?? 'INBOX'} holds ${count(address, folder)} messages, not ${n}. Mail log:\n${log.slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const messages = (address: string, folder?: string) =>
    files(address, folder)
      .sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs)
      .map((f) => fs.readFileSync(f, 'utf8'));

  const letter = (from: string, subject: string, body: string, extra: string[] = []) =>
    [
      `From: ${from}`,
      `To: ${users.owner.address}`,
      `Subject: ${subject}`,
      `Date: ${new Date().toUTCString()}`,
      ...(extra.some((h) => /^message-id:/i.test(h))
        ? []
        : [`Message-ID: <${Math.random().toString(36).slice(2)}@elsewhere.test>`]),
      ...extra,
      '',
      body,
    ].join('\r\n');

  return {
    dir,
    letter,
    imapPort: imap,
    submissionPort: submission,
    smtpPort: smtp,
    users,
    count,
    messages,
    waitForCount,
    async restartImap() {
      const gone = new Promise((r) => dovecot.once('exit', r));
      dovecot.kill('SIGTERM');
      await gone;
      dovecot = startDovecot();
      await waitForPort(imap, 'Dovecot IMAP', () => log);
    },
    async waitUntil(address, check, what, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      // Re-read only when another message has arrived.
      for (let seen = -1; ;) {
        const n = count(address);
        if (n !== seen && check(messages(address))) return;
        seen = n;
        if (Date.now() > until) throw new Error(`${address}: ${what} did not happen. Mail log:\n${log.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async deliver(from, to, raw) {
      const before = count(to);
      await smtpSend(smtp, from, to, raw);
      await waitForCount(to, before + 1);
    },
    env: (overrides = {}) => ({
      EMAIL_ADDRESS: users.owner.address,
      EMAIL_IMAP_HOST: '127.0.0.1',
      EMAIL_IMAP_PORT: String(imap),
      EMAIL_SMTP_HOST: '127.0.0.1',
      EMAIL_SMTP_PORT: String(submission),
      EMAIL_PASSWORD: users.owner.password,
      EMAIL_TLS: 'off',
      ...overrides,
    }),
    log: () => log,
    stop,
  };
}

/** One message over plain SMTP, speaking the protocol by hand: the sender side is another server, not our code. */
async function smtpSend(port: number, from: string, to: string, raw: string): Promise<void> {
  const sock = net.connect(port, '127.0.0.1');
  sock.setTimeout(20_000);
  let buf = '';
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  let failed: Error | null = null;
  const fail = (err: Error) => {
    failed = err;
    wake?.();
  };
  sock.on('error', fail);
  let step = 'greeting';
  sock.on('timeout', () =>
    fail(new Error(`The SMTP server on port ${port} stopped answering (waiting for: ${step}).`)),
  );
  sock.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl + 1);
      buf = buf.slice(nl + 1);
      // The last line of a reply has a space after the code ("250 ok"); "250-" lines continue it.
      if (/^\d{3} /.test(line)) lines.push(line);
    }
    wake?.();
  });
  const reply = async (): Promise<string> => {
    while (!lines.length) {
      if (failed) throw failed;
      await new Promise<void>((r) => (wake = r));
      wake = null;
    }
    return lines.shift()!;
  };
  const expect = async (code: string, what: string) => {
    step = what;
    const line = await reply();
    if (!line.startsWith(code)) throw new Error(`SMTP ${what}: ${line.trim()}`);
  };
  const cmd = (line: string) => sock.write(`${line}\r\n`);
  try {
    await expect('220', 'greeting');
    cmd('EHLO sender.example.test');
    await expect('250', 'EHLO');
    cmd(`MAIL FROM:<${from}>`);
    await expect('250', 'MAIL FROM');
    cmd(`RCPT TO:<${to}>`);
    await expect('250', 'RCPT TO');
    cmd('DATA');
    await expect('354', 'DATA');
    const body = raw.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    sock.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
    await expect('250', 'message');
    cmd('QUIT');
    await expect('221', 'QUIT');
  } finally {
    sock.end();
  }
}
