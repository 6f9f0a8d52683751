import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import type { NotifyConfig } from '../../config/notify.schema.js';

/**
 * Where e-mails go: an SMTP relay (SMTP_URL) through nodemailer, or, with
 * no relay configured (the embedded default), `.eml` files under the outbox
 * folder. Both are nodemailer transports, so the message that is written is
 * byte for byte the message that would be sent.
 */

export interface OutgoingMail {
  messageId: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  attachments: { filename: string; cid: string; contentType: string; content: Buffer }[];
  headers: Record<string, string>;
}

export interface MailTransport {
  readonly kind: 'smtp' | 'file';
  send(mail: OutgoingMail): Promise<string>;
  close(): void;
}

export function openTransport(cfg: NotifyConfig, options: { socketTimeoutMs?: number } = {}): MailTransport {
  const from = { name: cfg.fromName, address: cfg.from };
  if (cfg.smtpUrl !== undefined) {
    const timeout = options.socketTimeoutMs ?? 60_000;
    const url = new URL(cfg.smtpUrl);
    const secure = url.protocol === 'smtps:';
    const transporter = nodemailer.createTransport({
      host: url.hostname,
      port: url.port !== '' ? Number(url.port) : secure ? 465 : 587,
      secure,
      ...(url.username !== '' ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
      pool: true,
      maxConnections: 2,
      connectionTimeout: Math.min(timeout, 15_000),
      greetingTimeout: Math.min(timeout, 15_000),
      socketTimeout: timeout,
    });
    return {
      kind: 'smtp',
      async send(mail) {
        const info = (await transporter.sendMail({ ...mail, from, disableFileAccess: true, disableUrlAccess: true })) as { response?: string };
        return info.response ?? 'accepted';
      },
      close: () => transporter.close(),
    };
  }
  const dir = resolve(cfg.outboxDir);
  mkdirSync(dir, { recursive: true });
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'file',
    async send(mail) {
      const info = (await transporter.sendMail({ ...mail, from, disableFileAccess: true, disableUrlAccess: true })) as { message: Buffer };
      // Named by Message-ID: writing the same e-mail again replaces the file, never adds a second one.
      const name = `${mail.messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9._@-]/g, '_')}.eml`;
      const tmp = join(dir, `.${name}.${process.pid}.tmp`);
      writeFileSync(tmp, info.message);
      renameSync(tmp, join(dir, name));
      return `written to ${join(dir, name)}`;
    },
    close: () => transporter.close(),
  };
}

export type SendFailure = 'permanent' | 'transient';

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'ECONNREFUSED', 'ECONNRESET', 'EDNS', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EPROTOCOL']);

/**
 * SMTP 5xx: permanent for this recipient (marked failed, surfaced to ops,
 * never retried). SMTP 4xx and connection trouble: transient (retried with
 * backoff). Anything else (a bug) is permanent: retrying would not help.
 */
export function classifySendError(err: unknown): SendFailure {
  const e = err as { responseCode?: unknown; code?: unknown };
  if (typeof e.responseCode === 'number') return e.responseCode >= 500 ? 'permanent' : 'transient';
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return 'transient';
  return 'permanent';
}
