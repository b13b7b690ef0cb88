// Documents, end to end: a PDF sent to a Telegram group reaches the model as an
// Anthropic `document` block (base64, the very bytes sent), and a text file
// as text under its name, through the real runner, SDK CLI and sandbox.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { inboxDirFor, mediaStore } from '../../src/plugins/media/index.js';
import { createTelegramChannel } from '../../src/plugins/telegram/telegram.js';
import { silentLogger } from '../../src/core/logger.js';
import { lastUserBlocks, lastUserText } from '../support/fake-anthropic.js';
import { ALICE, groupChat, startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { makeHome, startTestEnv, until, type TestEnv } from '../support/harness.js';

const GROUP = groupChat('Paperwork', -1005555555555);
const JID = `tg:${GROUP.id}`;

/** A one-page PDF saying `text`. */
function pdf(text: string): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length + 31} >>\nstream\nBT /F1 18 Tf 20 70 Td (${text}) Tj ET\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

let env: TestEnv;
let tg: FakeTelegram;

beforeAll(async () => {
  tg = await startFakeTelegram();
  env = await startTestEnv({
    home: makeHome(),
    script: (req) => {
      const blocks = lastUserBlocks(req);
      if (blocks.some((b) => b.type === 'document')) return { text: 'Invoice read.' };
      if (lastUserText(req).includes('<file name=')) return { text: 'Notes read.' };
      return { text: 'No file.' };
    },
    host: {
      get channels() {
        return [
          createTelegramChannel({
            token: tg.token,
            apiRoot: tg.apiRoot,
            assistantName: 'Andy',
            logger: silentLogger(),
            pollingTimeoutSeconds: 1,
            media: mediaStore((jid) =>
              env ? inboxDirFor({ store: env.host.store, paths: env.host.paths }, jid) : null,
            ),
          }),
        ];
      },
    },
  });
  const res = await env.api('/api/groups', {
    method: 'POST',
    json: { jid: JID, name: 'Paperwork', folder: 'paperwork' },
  });
  expect(res.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await env?.close();
  await tg?.close();
});

test('a PDF reaches the model as a document block with the bytes that were sent', async () => {
  const bytes = pdf('Invoice 4711: 42 EUR');
  const fileId = tg.addFile(bytes, { filePath: 'documents/invoice.pdf' });
  tg.push({
    chat: GROUP,
    from: ALICE,
    caption: '@Andy how much is this invoice?',
    document: {
      file_id: fileId,
      file_unique_id: 'd1',
      file_name: 'invoice.pdf',
      mime_type: 'application/pdf',
      file_size: bytes.length,
    },
  });
  await until(() => tg.sent.length >= 1, 90_000, 'the answer in Telegram');
  expect(tg.sent[0].text).toContain('Invoice read.');

  const turn = env.fake.turnRequests().find((r) => lastUserBlocks(r).some((b) => b.type === 'document'))!;
  const doc = lastUserBlocks(turn).find((b) => b.type === 'document');
  expect(doc.source).toEqual({ type: 'base64', media_type: 'application/pdf', data: bytes.toString('base64') });
  expect(lastUserText(turn)).toContain('how much is this invoice?');
});

test('a text file reaches the model as text under its name', async () => {
  const notes = Buffer.from('packing list: rope, harness, chalk\n');
  const fileId = tg.addFile(notes, { filePath: 'documents/list.txt' });
  tg.push({
    chat: GROUP,
    from: ALICE,
    caption: '@Andy anything missing?',
    document: {
      file_id: fileId,
      file_unique_id: 'd2',
      file_name: 'list.txt',
      mime_type: 'text/plain',
      file_size: notes.length,
    },
  });
  await until(() => tg.sent.length >= 2, 90_000, 'the second answer');
  expect(tg.sent[1].text).toContain('Notes read.');
  const turn = env.fake.turnRequests().find((r) => lastUserText(r).includes('packing list: rope, harness, chalk'))!;
  expect(lastUserText(turn)).toMatch(/<file name="[^"]+\.txt">\npacking list: rope, harness, chalk/);
});
