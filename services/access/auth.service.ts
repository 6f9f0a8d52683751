import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../db/database.js';
import { checkAccount, checkEmail, checkPassword, maskedEmail, type Principal, type Role } from '../domain/access.js';
import { AccountRepository, type AccountRow } from './account.repository.js';
import { decoyHash, hashPassword, verifyPassword } from './password.js';

/**
 * Accounts, logins, sessions and API tokens: the one place that decides who
 * a request comes from. The console, the API and `ews users|tokens` all call
 * these functions.
 *
 * - A session is a 32-byte random secret in an HttpOnly cookie; the database
 *   keeps its SHA-256 only. It ends after `idleMs` without use or `maxMs`
 *   after login, at logout, at a password reset and when the account is
 *   disabled.
 * - Wrong passwords are counted per account; the `maxFailures`th locks it
 *   for `lockMs` (a reset lifts the lock). An unknown e-mail costs the same
 *   hash time, so answers do not reveal which e-mails have accounts.
 * - API tokens (`ews_<43 characters>`) are shown once and stored as SHA-256;
 *   revoking one refuses it at once.
 */

export interface AuthPolicy {
  idleMs: number;
  maxMs: number;
  maxFailures: number;
  lockMs: number;
}

export class AccountError extends Error {
  override name = 'AccountError';
}

export type LoginResult =
  | { ok: true; principal: Principal; sessionToken: string; csrfToken: string; expiresAt: Date }
  | { ok: false; reason: 'invalid' | 'locked' | 'disabled'; lockedUntil?: Date };

export interface SessionInfo {
  principal: Principal;
  csrfToken: string;
  expiresAt: Date;
}

const TOKEN_PREFIX = 'ews_';

export function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function principalOf(row: { account_id: number; email: string; role: Role; city_code: string | null }, via: Principal['via']): Principal {
  return { accountId: row.account_id, email: row.email, role: row.role, cityCode: row.city_code, via };
}

export class AuthService {
  readonly accounts: AccountRepository;

  constructor(
    database: Database,
    private readonly policy: AuthPolicy,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.accounts = new AccountRepository(database);
  }

  // ── accounts (ews users …) ────────────────────────────────────────────

  async addUser(input: { email: string; role: string; cityCode?: string | null; password?: string | null }, actor = 'cli'): Promise<AccountRow> {
    const email = input.email.trim();
    const problem = checkEmail(email) ?? checkAccount(input.role, input.cityCode) ?? (input.password == null ? undefined : checkPassword(input.password));
    if (problem !== undefined) throw new AccountError(problem);
    const row = await this.accounts.add({
      email,
      role: input.role as Role,
      cityCode: input.role === 'city' ? (input.cityCode ?? null) : null,
      passwordHash: input.password == null ? null : await hashPassword(input.password),
    });
    if (row === undefined) throw new AccountError(`an account for ${maskedEmail(email)} already exists (see \`ews users list\`)`);
    await this.accounts.audit({ actor, accountId: null, action: 'account.add', target: `account:${row.account_id}`, cityCode: row.city_code, detail: { email: maskedEmail(email), role: row.role } });
    return row;
  }

  async requireAccount(email: string): Promise<AccountRow> {
    const row = await this.accounts.byEmail(email.trim());
    if (row === undefined) throw new AccountError(`no account for ${maskedEmail(email.trim())} (see \`ews users list\`)`);
    return row;
  }

  async setDisabled(email: string, disabled: boolean, actor = 'cli'): Promise<AccountRow> {
    const row = await this.requireAccount(email);
    await this.accounts.setDisabled(row.account_id, disabled);
    await this.accounts.audit({ actor, accountId: null, action: disabled ? 'account.disable' : 'account.enable', target: `account:${row.account_id}`, cityCode: row.city_code });
    return row;
  }

  async resetPassword(email: string, password: string, actor = 'cli'): Promise<AccountRow> {
    const problem = checkPassword(password);
    if (problem !== undefined) throw new AccountError(problem);
    const row = await this.requireAccount(email);
    await this.accounts.setPassword(row.account_id, await hashPassword(password));
    await this.accounts.audit({ actor, accountId: null, action: 'account.reset', target: `account:${row.account_id}`, cityCode: row.city_code });
    return row;
  }

  // ── logins and sessions ───────────────────────────────────────────────

  async login(email: string, password: string, ip: string | null): Promise<LoginResult> {
    const now = this.clock();
    const given = email.trim();
    const masked = maskedEmail(given);
    const lockUntil = new Date(now.getTime() + this.policy.lockMs);
    const tooLong = given.length > 254 || password.length > 1_000;
    // Attempts on one account run one at a time (its row locked while the hash is checked): a parallel burst gets no more guesses than a sequence.
    const attempt = tooLong
      ? ({ outcome: 'unknown' } as const)
      : await this.accounts.attemptLogin(given, now, this.policy.maxFailures, lockUntil, async (row) => row.password_hash !== null && (await verifyPassword(password, row.password_hash)));
    const row = attempt.outcome === 'unknown' ? undefined : attempt.row;
    const refuse = async (reason: 'invalid' | 'locked' | 'disabled', lockedUntil?: Date): Promise<LoginResult> => {
      await this.accounts.audit({ actor: masked, accountId: row?.account_id ?? null, action: 'login.failed', target: row ? `account:${row.account_id}` : null, cityCode: row?.city_code ?? null, ip, detail: { reason } });
      return lockedUntil === undefined ? { ok: false, reason } : { ok: false, reason, lockedUntil };
    };
    switch (attempt.outcome) {
      case 'unknown':
        // The same hash time as a real account, so answers do not tell which e-mails have accounts.
        await verifyPassword(password.slice(0, 1_000), await decoyHash());
        return refuse('invalid');
      case 'locked':
        return refuse('locked', attempt.row.locked_until ?? undefined);
      case 'locking':
        await this.accounts.audit({ actor: masked, accountId: attempt.row.account_id, action: 'account.locked', target: `account:${attempt.row.account_id}`, cityCode: attempt.row.city_code, ip, detail: { until: lockUntil.toISOString() } });
        return refuse('locked', lockUntil);
      case 'bad':
        return refuse('invalid');
      case 'good':
        break;
    }
    const good = attempt.row;
    if (good.disabled_at !== null) return refuse('disabled');
    const sessionToken = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.policy.maxMs);
    await this.accounts.createSession({ tokenHash: digest(sessionToken), accountId: good.account_id, csrfToken, expiresAt, ip });
    await this.accounts.audit({ actor: masked, accountId: good.account_id, action: 'login', target: `account:${good.account_id}`, cityCode: good.city_code, ip });
    return { ok: true, principal: principalOf(good, 'session'), sessionToken, csrfToken, expiresAt };
  }

  /** The session behind a cookie's secret, if it is live; using it keeps it alive. */
  async session(sessionToken: string): Promise<SessionInfo | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(sessionToken)) return undefined;
    const now = this.clock();
    const hash = digest(sessionToken);
    const row = await this.accounts.session(hash, now);
    if (row === undefined || row.disabled_at !== null) return undefined;
    if (now.getTime() - row.last_seen_at.getTime() > this.policy.idleMs) {
      await this.accounts.deleteSession(hash);
      return undefined;
    }
    // Written at most once a minute (sooner for short idle limits): most requests only read the session.
    if (now.getTime() - row.last_seen_at.getTime() >= Math.min(60_000, this.policy.idleMs / 4)) await this.accounts.touchSession(hash, now, Math.min(60_000, this.policy.idleMs / 4));
    return { principal: principalOf(row, 'session'), csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  async logout(sessionToken: string, principal: Principal, ip: string | null): Promise<void> {
    await this.accounts.deleteSession(digest(sessionToken));
    await this.accounts.audit({ actor: maskedEmail(principal.email), accountId: principal.accountId, action: 'logout', target: `account:${principal.accountId}`, cityCode: principal.cityCode, ip });
  }

  async pruneSessions(): Promise<number> {
    return this.accounts.pruneSessions(this.clock(), this.policy.idleMs);
  }

  // ── API tokens (ews tokens …) ─────────────────────────────────────────

  async createToken(email: string, label: string | null, actor = 'cli'): Promise<{ tokenId: number; token: string; account: AccountRow }> {
    if (label !== null && (label.length > 100 || /[\r\n]/.test(label))) throw new AccountError('--label must be one line of at most 100 characters');
    const account = await this.requireAccount(email);
    if (account.disabled_at !== null) throw new AccountError(`the account of ${maskedEmail(account.email)} is disabled: enable it first (ews users enable)`);
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const tokenId = await this.accounts.createToken({ tokenHash: digest(token), accountId: account.account_id, label });
    await this.accounts.audit({ actor, accountId: null, action: 'token.create', target: `token:${tokenId}`, cityCode: account.city_code, detail: { account: account.account_id } });
    return { tokenId, token, account };
  }

  async revokeToken(tokenId: number, actor = 'cli'): Promise<void> {
    if (!(await this.accounts.revokeToken(tokenId))) throw new AccountError(`no live token ${tokenId} (see \`ews tokens list\`)`);
    await this.accounts.audit({ actor, accountId: null, action: 'token.revoke', target: `token:${tokenId}` });
  }

  /** The account behind a bearer token, if the token is live and the account enabled. */
  async bearer(token: string): Promise<Principal | undefined> {
    if (!/^ews_[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const row = await this.accounts.token(digest(token));
    if (row === undefined || row.disabled_at !== null) return undefined;
    const now = this.clock();
    if (row.last_used_at === null || now.getTime() - row.last_used_at.getTime() > 60_000) await this.accounts.touchToken(row.token_id, now);
    return principalOf(row, 'token');
  }
}
