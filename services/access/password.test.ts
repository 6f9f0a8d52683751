import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password.js';

describe('password hashes', () => {
  it('verifies the password and nothing else, with a fresh salt each time', async () => {
    const a = await hashPassword('vN4-q8s-Lw2-zT7');
    const b = await hashPassword('vN4-q8s-Lw2-zT7');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('vN4-q8s-Lw2-zT7', a)).toBe(true);
    expect(await verifyPassword('vN4-q8s-Lw2-zT8', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('never matches a malformed or hostile stored hash', async () => {
    for (const stored of ['', 'plain', 'scrypt$1$1$1$x$y', 'scrypt$99999999$8$1$AAAA$AAAA', 'bcrypt$10$abc']) {
      expect(await verifyPassword('anything', stored)).toBe(false);
    }
  });
});
