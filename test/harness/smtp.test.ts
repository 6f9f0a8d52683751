import { createTransport } from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from './smtp.js';

// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const opened: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
});

async function sink(options?: { port?: number; parse?: boolean }): Promise<SmtpSink> {
  const s = await startSmtpSink(options);
  opened.push(() => s.close());
  return s;
}

function transport(s: SmtpSink) {
  const t = createTransport({ host: '127.0.0.1', port: s.port, secure: false, ignoreTLS: true });
  opened.push(() => t.close());
  return t;
}

const plain = (to: string | string[], subject = 'plain') => ({
  from: 'ews@example.test',
  to,
  subject,
  text: `body of ${subject}`,
});

describe('SMTP sink', () => {
  it('receives a parsed message with a Chinese subject, html, text and an inline image', async () => {
    const s = await sink();
    expect(s.url).toBe(`smtp://127.0.0.1:${s.port}`);
    const info = await transport(s).sendMail({
      from: 'ews@example.test',
      to: 'analyst@example.test',
      subject: '四川省规模裁员预警：成都市',
      text: '成都市本周预警等级上升。',
      html: '<p>成都市本周预警等级上升。</p><img src="cid:chart@ews">',
      attachments: [{ filename: 'chart.png', content: PNG, contentType: 'image/png', cid: 'chart@ews' }],
    });
    // Pushed before the 250 reached the client.
    expect(s.received).toHaveLength(1);
    const [mail] = await s.waitFor(1);
    expect(mail).toBeDefined();
    if (mail === undefined) return;
    expect(mail.envelopeFrom).toBe('ews@example.test');
    expect(mail.envelopeTo).toEqual(['analyst@example.test']);
    expect(mail.messageId).toBe(info.messageId);
    expect(mail.subject).toBe('四川省规模裁员预警：成都市');
    expect(mail.text?.trim()).toBe('成都市本周预警等级上升。');
    expect(mail.html).toContain('<p>成都市本周预警等级上升。</p>');
    expect(mail.html).toContain('cid:chart@ews');
    expect(mail.headers.get('subject')).toBe('四川省规模裁员预警：成都市');
    expect(mail.raw.toString('latin1')).toMatch(/^Subject: =\?UTF-8\?/im);
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]).toMatchObject({ contentType: 'image/png', cid: 'chart@ews', filename: 'chart.png', size: PNG.length });
    expect(mail.attachments[0]?.content.equals(PNG)).toBe(true);
  });

  it('html is undefined for a text-only message', async () => {
    const s = await sink();
    await transport(s).sendMail(plain('a@example.test'));
    const [mail] = await s.waitFor(1);
    expect(mail?.html).toBeUndefined();
    expect(mail?.attachments).toEqual([]);
  });

  it('refuses a listed recipient with 550 and delivers to the others', async () => {
    const s = await sink();
    s.faults.rejectRecipients = ['bad@example.test'];
    const info = await transport(s).sendMail(plain(['good1@example.test', 'Bad@example.test', 'good2@example.test']));
    expect(info.rejected).toEqual(['Bad@example.test']);
    expect(info.accepted).toEqual(['good1@example.test', 'good2@example.test']);
    const [mail] = await s.waitFor(1);
    expect(mail?.envelopeTo).toEqual(['good1@example.test', 'good2@example.test']);
  });

  it('fails all recipients permanently when the only one is refused', async () => {
    const s = await sink();
    s.faults.rejectRecipients = ['bad@example.test'];
    await expect(transport(s).sendMail(plain('bad@example.test'))).rejects.toMatchObject({ code: 'EENVELOPE', responseCode: 550 });
    expect(s.received).toHaveLength(0);
  });

  it('fails the next RCPT TO temporarily with 451, then accepts', async () => {
    const s = await sink();
    s.faults.tempFailRecipients = 1;
    const t = transport(s);
    await expect(t.sendMail(plain('a@example.test'))).rejects.toMatchObject({ code: 'EENVELOPE', responseCode: 451 });
    expect(s.faults.tempFailRecipients).toBe(0);
    await t.sendMail(plain('a@example.test'));
    expect(s.received).toHaveLength(1);
  });

  it('fails the next message with 451 after DATA, receives nothing, then accepts', async () => {
    const s = await sink();
    s.faults.tempFailData = 1;
    const t = transport(s);
    await expect(t.sendMail(plain('a@example.test', 'first'))).rejects.toMatchObject({ responseCode: 451 });
    expect(s.received).toHaveLength(0);
    expect(s.faults.tempFailData).toBe(0);
    await t.sendMail(plain('a@example.test', 'second'));
    const mails = await s.waitFor(1);
    expect(mails.map((m) => m.subject)).toEqual(['second']);
  });

  it('refuses connections while stopped and comes back on the same port', async () => {
    const s = await sink();
    const port = s.port;
    const t = transport(s);
    await t.sendMail(plain('a@example.test', 'before'));
    await s.stop();
    const err: unknown = await t.sendMail(plain('a@example.test', 'while down')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'ESOCKET', message: expect.stringContaining('ECONNREFUSED') as unknown });
    await s.start();
    expect(s.port).toBe(port);
    await t.sendMail(plain('a@example.test', 'after'));
    expect(s.received.map((m) => m.subject)).toEqual(['before', 'after']);
  });

  it('listens on a requested port', async () => {
    const first = await sink();
    const port = first.port;
    await first.close();
    const s = await sink({ port });
    expect(s.port).toBe(port);
    await transport(s).sendMail(plain('a@example.test'));
    expect(s.received).toHaveLength(1);
  });

  it('hangs after DATA until the client gives up, and does not deliver the hung message', async () => {
    const s = await sink();
    s.faults.hangData = 1;
    const t = transport(s);
    const abort = new AbortController();
    const sending = t.sendMail({ ...plain('a@example.test', 'hung'), signal: abort.signal });
    const outcome = sending.then(
      () => 'sent',
      () => 'failed',
    );
    await s.nextHang();
    expect(s.faults.hangData).toBe(0);
    abort.abort();
    expect(await outcome).toBe('failed');
    // The connection is gone and the hung message never shows up, even after
    // the next message has gone all the way through.
    await t.sendMail(plain('a@example.test', 'next'));
    expect((await s.waitFor(1)).map((m) => m.subject)).toEqual(['next']);
    expect(s.received).toHaveLength(1);
  });

  it('drops a hung connection on stop, and a hang that began before nextHang is not missed', async () => {
    const s = await sink();
    s.faults.hangData = 1;
    const t = transport(s);
    const sending = t.sendMail(plain('a@example.test', 'hung'));
    const outcome = sending.then(
      () => 'sent',
      (e: unknown) => e,
    );
    // Wait for the hang through the client: once the hang began, nextHang resolves at once.
    await s.nextHang();
    await s.stop();
    expect(await outcome).toMatchObject({ code: expect.stringMatching(/^E/) as unknown });
    expect(s.received).toHaveLength(0);
    await s.start();
    await t.sendMail(plain('a@example.test', 'after'));
    expect(s.received.map((m) => m.subject)).toEqual(['after']);
  });

  it('keeps hangs nobody waited for yet, one per nextHang call', async () => {
    const s = await sink();
    s.faults.hangData = 2;
    const a = transport(s);
    const b = transport(s);
    const abort = new AbortController();
    const both = Promise.allSettled([
      a.sendMail({ ...plain('a@example.test', 'one'), signal: abort.signal }),
      b.sendMail({ ...plain('b@example.test', 'two'), signal: abort.signal }),
    ]);
    await s.nextHang();
    await s.nextHang();
    abort.abort();
    expect((await both).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(s.nextHang(50)).rejects.toThrow(/hung message/);
    expect(s.received).toHaveLength(0);
  });

  it('waitFor resolves on arrival and rejects with the count on timeout', async () => {
    const s = await sink();
    const waiting = s.waitFor(2);
    const t = transport(s);
    await t.sendMail(plain('a@example.test', 'one'));
    await t.sendMail(plain('a@example.test', 'two'));
    expect((await waiting).map((m) => m.subject)).toEqual(['one', 'two']);
    await expect(s.waitFor(3, 50)).rejects.toThrow(/2 arrived/);
  });

  it('with parse: false keeps the envelope, the raw message and the Message-ID', async () => {
    const s = await sink({ parse: false });
    const info = await transport(s).sendMail({ ...plain(['x@example.test', 'y@example.test'], '不解析'), html: '<b>x</b>' });
    const [mail] = await s.waitFor(1);
    expect(mail).toMatchObject({
      envelopeFrom: 'ews@example.test',
      envelopeTo: ['x@example.test', 'y@example.test'],
      messageId: info.messageId,
      subject: undefined,
      html: undefined,
      attachments: [],
    });
    expect(mail?.raw.toString('latin1')).toContain('Content-Type: multipart/alternative');
  });
});
