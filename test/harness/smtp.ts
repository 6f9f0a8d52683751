import { EventEmitter } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server on loopback for integration tests and benchmarks: it
 * records every message it acknowledged, and it can be told to misbehave
 * (refuse recipients, fail temporarily, hang after DATA, go down and come
 * back on the same port).
 */

export interface ReceivedMail {
  /** RCPT TO addresses of the SMTP envelope. */
  envelopeTo: string[];
  envelopeFrom: string;
  messageId: string | undefined;
  subject: string | undefined;
  text: string | undefined;
  /** HTML as sent (cid: links kept), undefined when the message has none. */
  html: string | undefined;
  /** Inline/attached parts. */
  attachments: { contentType: string; cid: string | undefined; filename: string | undefined; size: number; content: Buffer }[];
  headers: Map<string, unknown>;
  raw: Buffer;
}

export interface SmtpFaults {
  /** Recipients (lower-case address) refused at RCPT TO with a permanent 550 error. */
  rejectRecipients?: string[];
  /** The next N RCPT TO commands get a temporary 451 error (then normal). */
  tempFailRecipients?: number;
  /** The next N messages get a temporary 451 error after DATA (then normal). */
  tempFailData?: number;
  /**
   * The next N messages: the server reads DATA and then never answers (hangs)
   * until the connection is closed by the client or the server closes; such
   * messages are NOT delivered.
   */
  hangData?: number;
  /**
   * Every message: wait this long after reading DATA before answering (a slow
   * relay). A client that goes away during the wait has not delivered it.
   */
  acceptDelayMs?: number;
}

export interface SmtpSink {
  readonly port: number;
  /** smtp://127.0.0.1:<port> (no auth, no TLS) */
  readonly url: string;
  /** Messages fully received and acknowledged with 250, in arrival order. */
  readonly received: ReceivedMail[];
  faults: SmtpFaults;
  /** Resolves when `received.length >= n` or rejects after `timeoutMs` (default 30 s) with a message saying how many arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /**
   * Resolves when the next message whose DATA is being hung has been read (the
   * client now waits for a reply that never comes). Hangs that started before
   * anyone asked are kept, so each hang satisfies exactly one call.
   */
  nextHang(timeoutMs?: number): Promise<void>;
  /** Messages whose DATA has been read and whose 250 is being held back by `acceptDelayMs`. */
  readonly accepting: number;
  /** Ends the hold of every message being held back now (a test's gate instead of waiting the delay out). */
  releaseAccepting(): void;
  /** Stops listening and drops open connections (server "down"); received mail is kept. */
  stop(): Promise<void>;
  /** Listens again on the SAME port (server "back"). */
  start(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_MESSAGE_BYTES = 100 * 1024 * 1024;

type SmtpCallback = (err?: Error | null) => void;
type CountedFault = 'tempFailRecipients' | 'tempFailData' | 'hangData';

interface HangWaiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** An error whose code smtp-server puts on the reply line. */
function smtpError(responseCode: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode });
}

/** Message-ID from the raw header block, without parsing the message (angle brackets kept, as mailparser does). */
function rawMessageId(raw: Buffer): string | undefined {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  const head = raw.toString('latin1', 0, end < 0 ? raw.length : end);
  const match = /^message-id:[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(head);
  const value = match?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim();
  return value === undefined || value === '' ? undefined : value;
}

async function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

class Sink implements SmtpSink {
  port: number;
  readonly received: ReceivedMail[] = [];
  faults: SmtpFaults = {};

  private server: SMTPServer | undefined;
  /** Open client sockets by remote port (all clients are on loopback). */
  private readonly sockets = new Map<number, Socket>();
  private readonly events = new EventEmitter().setMaxListeners(0);
  private readonly hangWaiters: HangWaiter[] = [];
  private unclaimedHangs = 0;
  private closed = false;
  accepting = 0;
  private readonly held = new Set<() => void>();

  constructor(
    port: number,
    private readonly parse: boolean,
  ) {
    this.port = port;
  }

  get url(): string {
    return `smtp://${HOST}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('SMTP sink is closed');
    if (this.server !== undefined) return;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      disableReverseLookup: true,
      size: MAX_MESSAGE_BYTES,
      onRcptTo: (address, _session, callback) => this.onRcptTo(address.address, callback),
      onData: (stream, session, callback) => {
        void this.onData(stream, session, callback);
      },
    });
    server.server.on('connection', (socket: Socket) => {
      const remotePort = socket.remotePort;
      if (remotePort === undefined) return;
      this.sockets.set(remotePort, socket);
      socket.once('close', () => {
        if (this.sockets.get(remotePort) === socket) this.sockets.delete(remotePort);
      });
    });
    let onListenError: ((err: Error) => void) | undefined;
    // Client resets and the like surface here; a sink has nothing to do about them.
    server.on('error', (err: Error) => onListenError?.(err));
    await new Promise<void>((resolve, reject) => {
      onListenError = reject;
      server.listen(this.port, HOST, () => resolve());
    });
    onListenError = undefined;
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets.values()) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
    const err = new Error('SMTP sink closed');
    for (const waiter of this.hangWaiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
    this.events.emit('closed');
  }

  releaseAccepting(): void {
    for (const done of [...this.held]) done();
  }

  waitFor(n: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ReceivedMail[]> {
    if (this.received.length >= n) return Promise.resolve(this.received.slice());
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.events.off('mail', onMail);
        this.events.off('closed', onClosed);
      };
      const onMail = (): void => {
        if (this.received.length < n) return;
        cleanup();
        resolve(this.received.slice());
      };
      const onClosed = (): void => {
        cleanup();
        reject(new Error(`SMTP sink closed while waiting for ${n} message(s); ${this.received.length} arrived`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${n} message(s); ${this.received.length} arrived`));
      }, timeoutMs);
      this.events.on('mail', onMail);
      this.events.on('closed', onClosed);
    });
  }

  nextHang(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    if (this.unclaimedHangs > 0) {
      this.unclaimedHangs -= 1;
      return Promise.resolve();
    }
    if (this.closed) return Promise.reject(new Error('SMTP sink closed'));
    return new Promise((resolve, reject) => {
      const waiter: HangWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.hangWaiters.indexOf(waiter);
          if (i >= 0) this.hangWaiters.splice(i, 1);
          reject(new Error(`Timed out after ${timeoutMs} ms waiting for a hung message`));
        }, timeoutMs),
      };
      this.hangWaiters.push(waiter);
    });
  }

  /** Uses up one of the next-N faults, if any is left. */
  private take(fault: CountedFault): boolean {
    const left = this.faults[fault] ?? 0;
    if (left <= 0) return false;
    this.faults[fault] = left - 1;
    return true;
  }

  private onRcptTo(address: string, callback: SmtpCallback): void {
    if (this.take('tempFailRecipients')) {
      callback(smtpError(451, `Mailbox <${address}> temporarily unavailable, try again later`));
      return;
    }
    const lower = address.toLowerCase();
    if ((this.faults.rejectRecipients ?? []).some((r) => r.toLowerCase() === lower)) {
      callback(smtpError(550, `Mailbox <${address}> unavailable`));
      return;
    }
    callback();
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: SmtpCallback): Promise<void> {
    // The session is reset once we answer, so take the envelope now.
    const envelopeFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
    const envelopeTo = session.envelope.rcptTo.map((a) => a.address);
    let raw: Buffer;
    try {
      raw = await readAll(stream);
    } catch {
      // The client went away mid-message: nobody to answer.
      return;
    }
    if (stream.sizeExceeded) {
      callback(smtpError(552, `Message exceeds fixed maximum message size ${MAX_MESSAGE_BYTES}`));
      return;
    }
    if (this.take('hangData')) {
      this.hangStarted();
      return; // never answer
    }
    if (this.take('tempFailData')) {
      callback(smtpError(451, 'Temporary failure, try again later'));
      return;
    }
    const delay = this.faults.acceptDelayMs ?? 0;
    if (delay > 0) {
      this.accepting += 1;
      await new Promise<void>((r) => {
        const done = (): void => {
          clearTimeout(timer);
          this.held.delete(done);
          r();
        };
        const timer = setTimeout(done, delay);
        this.held.add(done);
      });
      this.accepting -= 1;
    }
    let mail: ReceivedMail;
    try {
      mail = this.parse ? await parseMail(raw, envelopeFrom, envelopeTo) : unparsedMail(raw, envelopeFrom, envelopeTo);
    } catch (err) {
      callback(smtpError(554, `Message could not be parsed: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    // Only a client that can still get the 250 has delivered the message: the
    // reply below is written synchronously, so nothing can drop the
    // connection between the check, the push and the acknowledgement.
    const socket = this.sockets.get(session.remotePort);
    if (socket === undefined || socket.destroyed || socket.readyState !== 'open') return;
    this.received.push(mail);
    this.events.emit('mail');
    callback();
  }

  private hangStarted(): void {
    const waiter = this.hangWaiters.shift();
    if (waiter === undefined) {
      this.unclaimedHangs += 1;
      return;
    }
    clearTimeout(waiter.timer);
    waiter.resolve();
  }
}

async function parseMail(raw: Buffer, envelopeFrom: string, envelopeTo: string[]): Promise<ReceivedMail> {
  const parsed = await simpleParser(raw, { keepCidLinks: true, skipTextToHtml: true });
  return {
    envelopeTo,
    envelopeFrom,
    messageId: parsed.messageId,
    subject: parsed.subject,
    text: parsed.text,
    html: typeof parsed.html === 'string' ? parsed.html : undefined,
    attachments: parsed.attachments.map((a) => ({
      contentType: a.contentType,
      cid: a.cid,
      filename: a.filename,
      size: a.size,
      content: a.content,
    })),
    headers: parsed.headers,
    raw,
  };
}

function unparsedMail(raw: Buffer, envelopeFrom: string, envelopeTo: string[]): ReceivedMail {
  return {
    envelopeTo,
    envelopeFrom,
    messageId: rawMessageId(raw),
    subject: undefined,
    text: undefined,
    html: undefined,
    attachments: [],
    headers: new Map(),
    raw,
  };
}

/**
 * Starts an SMTP sink on 127.0.0.1 (a random port unless `port` is given).
 * `parse: false` (for benchmarks) keeps only the envelope, the raw message and
 * its Message-ID.
 */
export async function startSmtpSink(options: { port?: number; parse?: boolean } = {}): Promise<SmtpSink> {
  const sink = new Sink(options.port ?? 0, options.parse !== false);
  await sink.start();
  return sink;
}
