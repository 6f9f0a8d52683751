/**
 * Where the tests find their services: TEST_DATABASE_URL (a server where the
 * tests may create databases; default the local PostgreSQL) and
 * TEST_REDIS_URL (default the local Redis).
 */
export function adminUrl(): string {
  return process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function databaseUrl(name: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  return u.toString();
}

export function redisUrl(): string {
  return process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}
