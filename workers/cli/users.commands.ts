import { randomBytes } from 'node:crypto';
import { AccountError, AuthService } from '../../services/access/auth.service.js';
import { authPolicy } from '../../services/api/auth.js';
import { maskedEmail, ROLES } from '../../services/domain/access.js';
import { cityName } from '../../services/domain/region.js';
import type { CliContext } from './context.js';
import { intOption, printJson, printLine, printTable, UsageError } from './output.js';

/**
 * `ews users add|list|disable|enable|reset` and `ews tokens create|list|revoke`:
 * the console's accounts and the API's tokens. A password comes from stdin
 * (--password-stdin, so it never sits in the shell history or the process
 * list) or, without it, is generated and printed once. A token is printed
 * once, on the last line, and stored only as its SHA-256.
 */

async function service(ctx: CliContext): Promise<AuthService> {
  return new AuthService(await ctx.db(), authPolicy(ctx.config));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  // One line: the trailing newline of `echo` or a here-string is not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function generatedPassword(): string {
  return randomBytes(15).toString('base64url');
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AccountError) throw new UsageError(err.message);
    throw err;
  }
}

function requireEmail(email: string | undefined): string {
  if (email === undefined || email.trim() === '') throw new UsageError('--email <address> is required');
  return email.trim();
}

export async function usersAddCommand(ctx: CliContext, opts: { role?: string; city?: string; email?: string; passwordStdin?: boolean; json?: boolean }): Promise<void> {
  if (opts.role === undefined) throw new UsageError(`--role is required: one of ${ROLES.join(' / ')}`);
  const email = requireEmail(opts.email);
  const given = opts.passwordStdin === true ? await readStdin() : undefined;
  if (given === '') throw new UsageError('--password-stdin: stdin was empty');
  const password = given ?? generatedPassword();
  const auth = await service(ctx);
  const row = await wrap(() => auth.addUser({ email, role: opts.role as string, cityCode: opts.city ?? null, password }));
  if (opts.json) {
    printJson({ accountId: row.account_id, email: maskedEmail(row.email), role: row.role, cityCode: row.city_code, ...(given === undefined ? { password } : {}) });
    return;
  }
  printLine(`account ${row.account_id} added: ${maskedEmail(row.email)}, ${row.role}${row.city_code ? ` of ${row.city_code} ${cityName(row.city_code)}` : ''}`);
  if (given === undefined) {
    printLine('initial password (shown once; give it over in person and ask for a change with `ews users reset`):');
    printLine(password);
  }
}

export async function usersListCommand(ctx: CliContext, opts: { json?: boolean }): Promise<void> {
  const auth = await service(ctx);
  const rows = await auth.accounts.list();
  const now = new Date();
  const items = rows.map((r) => ({
    id: r.account_id,
    email: maskedEmail(r.email),
    role: r.role,
    city: r.city_code === null ? '' : `${r.city_code} ${cityName(r.city_code)}`,
    state: r.disabled_at !== null ? 'disabled' : r.locked_until !== null && r.locked_until > now ? `locked until ${r.locked_until.toISOString()}` : 'active',
    'last login': r.last_login_at,
    created: r.created_at,
  }));
  if (opts.json) printJson(items);
  else printTable(items, ['id', 'email', 'role', 'city', 'state', 'last login', 'created']);
}

export async function usersDisableCommand(ctx: CliContext, opts: { email?: string }, disabled: boolean): Promise<void> {
  const email = requireEmail(opts.email);
  const auth = await service(ctx);
  const row = await wrap(() => auth.setDisabled(email, disabled));
  printLine(`${maskedEmail(row.email)}: ${disabled ? 'disabled, its sessions ended (its tokens are refused while it is disabled)' : 'enabled'}`);
}

export async function usersResetCommand(ctx: CliContext, opts: { email?: string; passwordStdin?: boolean }): Promise<void> {
  const email = requireEmail(opts.email);
  const given = opts.passwordStdin === true ? await readStdin() : undefined;
  if (given === '') throw new UsageError('--password-stdin: stdin was empty');
  const password = given ?? generatedPassword();
  const auth = await service(ctx);
  const row = await wrap(() => auth.resetPassword(email, password));
  printLine(`${maskedEmail(row.email)}: new password set, lock lifted, sessions ended`);
  if (given === undefined) {
    printLine('new password (shown once):');
    printLine(password);
  }
}

export async function tokensCreateCommand(ctx: CliContext, opts: { email?: string; label?: string }): Promise<void> {
  const email = requireEmail(opts.email);
  const auth = await service(ctx);
  const { tokenId, token, account } = await wrap(() => auth.createToken(email, opts.label ?? null));
  printLine(`token ${tokenId} for ${maskedEmail(account.email)} (${account.role}${account.city_code ? ` ${account.city_code}` : ''}); shown once, send it as "Authorization: Bearer <token>":`);
  printLine(token);
}

export async function tokensListCommand(ctx: CliContext, opts: { email?: string; json?: boolean }): Promise<void> {
  const auth = await service(ctx);
  const account = opts.email === undefined ? undefined : await wrap(() => auth.requireAccount(opts.email as string));
  const rows = await auth.accounts.tokens(account?.account_id);
  const items = rows.map((t) => ({ id: t.token_id, email: maskedEmail(t.email), role: t.role, label: t.label, created: t.created_at, 'last used': t.last_used_at, revoked: t.revoked_at }));
  if (opts.json) printJson(items);
  else printTable(items, ['id', 'email', 'role', 'label', 'created', 'last used', 'revoked']);
}

export async function tokensRevokeCommand(ctx: CliContext, id: string): Promise<void> {
  const tokenId = intOption('id', id, 1);
  const auth = await service(ctx);
  await wrap(() => auth.revokeToken(tokenId));
  printLine(`token ${tokenId} revoked: it is refused from now on`);
}
