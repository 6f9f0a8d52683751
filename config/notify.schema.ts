import { z } from 'zod';
import { CITIES } from './cities.js';

/**
 * Alerts (lifecycle rules) and notification (who hears what, how soon, and
 * over which transport). Every field has a default that works on a fresh
 * machine: with no SMTP_URL the e-mails are written as .eml files under
 * ./outbox/, and each city's department gets a placeholder address of the
 * reserved .invalid domain until the real ones are configured.
 */

const positiveInt = z.number().int().positive();
const LEVEL = z.number().int().min(1).max(4);

/** A plain addr-spec: local@domain.tld, no display name, no spaces, no control characters. */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export const emailAddress = z
  .string()
  .max(254, 'an e-mail address is at most 254 characters')
  .superRefine((v, ctx) => {
    if (!EMAIL.test(v)) ctx.addIssue({ code: 'custom', message: `"${v.slice(0, 80)}" is not an e-mail address (expected name@domain.example)` });
  });

export const recipientSchema = z
  .object({
    email: emailAddress,
    name: z.string().max(100).optional(),
    /** Levels this recipient hears about (1 = Ⅰ … 4 = Ⅳ). */
    levels: z.array(LEVEL).min(1).default([1, 2, 3, 4]),
    /** immediate: Ⅰ/Ⅱ as they are raised (Ⅲ/Ⅳ still in the digest); digest: everything in the daily digest. */
    mode: z.enum(['immediate', 'digest']).default('immediate'),
  })
  .strict();

export type Recipient = z.infer<typeof recipientSchema>;

const defaultCities = (): Record<string, Recipient[]> =>
  Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `layoff-ews-${c.code}@hrss.invalid`, levels: [1, 2, 3, 4], mode: 'immediate' as const }]]));

export const notifySchema = z
  .object({
    /** smtp:// or smtps:// URL of the relay; unset: .eml files under outboxDir. */
    smtpUrl: z.string().refine((v) => /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL').optional(),
    outboxDir: z.string().min(1).default('./outbox'),
    from: emailAddress.default('layoff-ews@hrss.invalid'),
    fromName: z.string().max(100).default('四川省规模裁员和失业风险预警系统'),
    /** Where an alert's page lives: `${consoleUrl}/alerts/<id>`. */
    consoleUrl: z.string().refine((v) => /^https?:\/\/[^\s]+$/.test(v), 'must be an http(s):// URL').default('http://127.0.0.1:3000'),
    /** Send attempts per e-mail on SMTP 4xx or connection failures (then the sweep picks it up again). */
    attempts: positiveInt.max(50).default(8),
    retryBaseMs: positiveInt.default(30_000),
    /** How long a send may take before another worker presumes its sender dead and sends again (longer than any SMTP exchange). */
    sendLeaseMs: positiveInt.min(1_000).default(120_000),
    /** How often the scheduler re-enqueues whatever the outbox still holds (attempts exhausted during a long SMTP outage, or a crash between commit and enqueue). */
    sweepMs: positiveInt.min(1_000).default(600_000),
    /** Each of the 21 cities' departments (city code → recipients). */
    cities: z.record(z.string(), z.array(recipientSchema)).default(defaultCities),
    /** The province office: Ⅰ and Ⅱ for all cities, escalations, and the daily summary. */
    province: z.array(recipientSchema).min(1).default([{ email: 'layoff-ews-province@hrss.invalid', levels: [1, 2], mode: 'immediate' }]),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const known = new Set(CITIES.map((c) => c.code));
    for (const code of Object.keys(cfg.cities)) {
      if (!known.has(code)) ctx.addIssue({ code: 'custom', path: ['cities', code], message: `${code} is not one of Sichuan's 21 cities and prefectures` });
    }
    for (const c of CITIES) {
      if ((cfg.cities[c.code] ?? []).length === 0) {
        ctx.addIssue({ code: 'custom', path: ['cities', c.code], message: `${c.name} (${c.code}) has no recipients: every city's department must hear about its alerts` });
      }
    }
  });

export const alertsSchema = z
  .object({
    /** An alert resolves after this many months without a signal. */
    resolveAfterQuietMonths: positiveInt.max(24).default(3),
    /** A model-only alert opens when the model flagged it on this many … */
    modelConfirmations: positiveInt.max(8).default(2),
    /** … of the last this many calendar months (a month scored again counts once). */
    modelConfirmWindow: positiveInt.max(8).default(3),
    /** Unacknowledged Ⅰ/Ⅱ alerts are re-sent after this many hours. */
    reminderHours: positiveInt.max(24 * 30).default(24),
    /** … and escalated to the province office after this many days. */
    escalateAfterDays: positiveInt.max(90).default(3),
    /** An alert counts as acknowledged in time within this many hours of opening: Ⅰ and Ⅱ … */
    ackHoursUrgent: positiveInt.max(24 * 30).default(2),
    /** … and Ⅲ (Ⅳ, notice only, has no deadline). */
    ackHoursLevel3: positiveInt.max(24 * 30).default(12),
  })
  .strict()
  .refine((a) => a.modelConfirmations <= a.modelConfirmWindow, {
    message: 'modelConfirmations cannot exceed modelConfirmWindow (a model-only alert could never open)',
    path: ['modelConfirmations'],
  });

export type NotifyConfig = z.infer<typeof notifySchema>;
export type AlertsConfig = z.infer<typeof alertsSchema>;
