import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { Role } from '../domain/access.js';

/**
 * Every query on accounts, sessions, API tokens and the audit log
 * (sql/008_console.sql). Secrets never reach this layer: sessions and tokens
 * arrive as SHA-256 digests, passwords as scrypt hashes.
 */

export interface AccountRow {
  account_id: number;
  email: string;
  role: Role;
  city_code: string | null;
  password_hash: string | null;
  disabled_at: Date | null;
  failed_logins: number;
  locked_until: Date | null;
  password_set_at: Date | null;
  last_login_at: Date | null;
  created_at: Date;
}

export interface SessionRow {
  account_id: number;
  email: string;
  role: Role;
  city_code: string | null;
  csrf_token: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  disabled_at: Date | null;
}

export interface AuditEntry {
  actor: string;
  accountId: number | null;
  action: string;
  target?: string | null;
  cityCode?: string | null;
  ip?: string | null;
  detail?: unknown;
}

export class AccountRepository {
  constructor(private readonly database: Database) {}

  private get db() {
    return this.database.db;
  }

  async byEmail(email: string): Promise<AccountRow | undefined> {
    const row = await this.db.selectFrom('account').selectAll().where(sql<boolean>`lower(email) = lower(${email})`).executeTakeFirst();
    return row === undefined ? undefined : trimCity(row);
  }

  async list(): Promise<AccountRow[]> {
    const rows = await this.db.selectFrom('account').selectAll().orderBy('role').orderBy('city_code').orderBy('email').execute();
    return rows.map(trimCity);
  }

  /** A new account; undefined when the e-mail already has one. */
  async add(a: { email: string; role: Role; cityCode: string | null; passwordHash: string | null }): Promise<AccountRow | undefined> {
    const row = await this.db
      .insertInto('account')
      .values({ email: a.email, role: a.role, city_code: a.cityCode, password_hash: a.passwordHash, password_set_at: a.passwordHash === null ? null : new Date() })
      .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : trimCity(row);
  }

  async setDisabled(accountId: number, disabled: boolean): Promise<void> {
    await this.db.updateTable('account').set({ disabled_at: disabled ? new Date() : null }).where('account_id', '=', accountId).execute();
    if (disabled) await this.db.deleteFrom('session').where('account_id', '=', accountId).execute();
  }

  /** A new password: the lock lifted, the failures forgotten and every session ended. */
  async setPassword(accountId: number, passwordHash: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('account')
        .set({ password_hash: passwordHash, password_set_at: new Date(), failed_logins: 0, locked_until: null })
        .where('account_id', '=', accountId)
        .execute();
      await trx.deleteFrom('session').where('account_id', '=', accountId).execute();
    });
  }

  /**
   * One login attempt on an account, serialised with every other attempt on
   * it (the row is locked while `check` runs the slow hash), so a burst of
   * parallel guesses cannot all pass the lock: 'unknown' (no account),
   * 'locked' (locked now), 'good' (failures forgotten, lock lifted, login
   * recorded), 'bad' (one more failure) or 'locking' (the `maxFailures`th:
   * locked until `lockUntil`, the count starting again after).
   */
  async attemptLogin(
    email: string,
    now: Date,
    maxFailures: number,
    lockUntil: Date,
    check: (row: AccountRow) => Promise<boolean>,
  ): Promise<{ outcome: 'unknown' } | { outcome: 'locked' | 'good' | 'bad' | 'locking'; row: AccountRow }> {
    return this.db.transaction().execute(async (trx) => {
      const found = await trx.selectFrom('account').selectAll().where(sql<boolean>`lower(email) = lower(${email})`).forUpdate().executeTakeFirst();
      if (found === undefined) return { outcome: 'unknown' as const };
      const row = trimCity(found);
      if (row.locked_until !== null && row.locked_until > now) return { outcome: 'locked' as const, row };
      if (await check(row)) {
        await trx.updateTable('account').set({ failed_logins: 0, locked_until: null, last_login_at: now }).where('account_id', '=', row.account_id).execute();
        return { outcome: 'good' as const, row };
      }
      const locking = row.failed_logins + 1 >= maxFailures;
      await trx
        .updateTable('account')
        .set({ failed_logins: locking ? 0 : row.failed_logins + 1, locked_until: locking ? lockUntil : null })
        .where('account_id', '=', row.account_id)
        .execute();
      return { outcome: locking ? ('locking' as const) : ('bad' as const), row };
    });
  }

  async createSession(s: { tokenHash: Buffer; accountId: number; csrfToken: string; expiresAt: Date; ip: string | null }): Promise<void> {
    await this.db
      .insertInto('session')
      .values({ token_hash: s.tokenHash, account_id: s.accountId, csrf_token: s.csrfToken, expires_at: s.expiresAt, ip: s.ip })
      .execute();
  }

  /** The session and its account, if it exists and has not passed its absolute end. */
  async session(tokenHash: Buffer, now: Date): Promise<SessionRow | undefined> {
    const row = await this.db
      .selectFrom('session as s')
      .innerJoin('account as a', 'a.account_id', 's.account_id')
      .select(['s.account_id', 'a.email', 'a.role', 'a.city_code', 's.csrf_token', 's.created_at', 's.last_seen_at', 's.expires_at', 'a.disabled_at'])
      .where('s.token_hash', '=', tokenHash)
      .where('s.expires_at', '>', now)
      .executeTakeFirst();
    return row === undefined ? undefined : trimCity(row);
  }

  /** The session was used now (written at most once per `everyMs`). */
  async touchSession(tokenHash: Buffer, now: Date, everyMs: number): Promise<void> {
    await this.db
      .updateTable('session')
      .set({ last_seen_at: now })
      .where('token_hash', '=', tokenHash)
      .where('last_seen_at', '<', new Date(now.getTime() - everyMs))
      .execute();
  }

  async deleteSession(tokenHash: Buffer): Promise<void> {
    await this.db.deleteFrom('session').where('token_hash', '=', tokenHash).execute();
  }

  /** Sessions past their end or idle longer than `idleMs`. */
  async pruneSessions(now: Date, idleMs: number): Promise<number> {
    const r = await this.db
      .deleteFrom('session')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', new Date(now.getTime() - idleMs))]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async createToken(t: { tokenHash: Buffer; accountId: number; label: string | null }): Promise<number> {
    const row = await this.db
      .insertInto('api_token')
      .values({ token_hash: t.tokenHash, account_id: t.accountId, label: t.label })
      .returning('token_id')
      .executeTakeFirstOrThrow();
    return row.token_id;
  }

  /** The account behind a token that is not revoked. */
  async token(tokenHash: Buffer): Promise<(Omit<SessionRow, 'csrf_token' | 'created_at' | 'last_seen_at' | 'expires_at'> & { token_id: number; last_used_at: Date | null }) | undefined> {
    const row = await this.db
      .selectFrom('api_token as t')
      .innerJoin('account as a', 'a.account_id', 't.account_id')
      .select(['t.token_id', 't.account_id', 't.last_used_at', 'a.email', 'a.role', 'a.city_code', 'a.disabled_at'])
      .where('t.token_hash', '=', tokenHash)
      .where('t.revoked_at', 'is', null)
      .executeTakeFirst();
    return row === undefined ? undefined : trimCity(row);
  }

  async touchToken(tokenId: number, now: Date): Promise<void> {
    await this.db.updateTable('api_token').set({ last_used_at: now }).where('token_id', '=', tokenId).execute();
  }

  async tokens(accountId?: number) {
    let q = this.db
      .selectFrom('api_token as t')
      .innerJoin('account as a', 'a.account_id', 't.account_id')
      .select(['t.token_id', 'a.email', 'a.role', 't.label', 't.created_at', 't.last_used_at', 't.revoked_at'])
      .orderBy('t.token_id');
    if (accountId !== undefined) q = q.where('t.account_id', '=', accountId);
    return q.execute();
  }

  /** Revoked now; false when there is no such live token. */
  async revokeToken(tokenId: number): Promise<boolean> {
    const r = await this.db.updateTable('api_token').set({ revoked_at: new Date() }).where('token_id', '=', tokenId).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async audit(e: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        actor: e.actor,
        account_id: e.accountId,
        action: e.action,
        target: e.target ?? null,
        city_code: e.cityCode ?? null,
        ip: e.ip ?? null,
        detail: e.detail === undefined ? null : JSON.stringify(e.detail),
      })
      .execute();
  }

  /** The audit log, newest first, `limit` entries before `before` (an audit_id), optionally one action. */
  async auditLog(f: { limit: number; before?: number; action?: string }) {
    let q = this.db.selectFrom('audit_log').selectAll().orderBy('audit_id', 'desc').limit(f.limit);
    if (f.before !== undefined) q = q.where('audit_id', '<', f.before);
    if (f.action !== undefined) q = q.where('action', '=', f.action);
    const rows = await q.execute();
    return rows.map((r) => ({ ...r, city_code: r.city_code?.trim() ?? null }));
  }
}

function trimCity<T extends { city_code: string | null }>(row: T): T {
  return row.city_code === null ? row : { ...row, city_code: row.city_code.trim() };
}
