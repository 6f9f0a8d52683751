import { describe, expect, it } from 'vitest';
import { can, checkAccount, checkEmail, checkPassword, inScope, maskedEmail, narrow, ROLES, scopeOf, type Capability } from './access.js';

const CAPABILITIES: Capability[] = ['alerts:read', 'alerts:act', 'alerts:export', 'cities:read', 'runs:read', 'queues', 'audit:read'];

describe('who may do what', () => {
  it('grants each role exactly its capabilities', () => {
    const table = Object.fromEntries(ROLES.map((role) => [role, CAPABILITIES.filter((c) => can({ role }, c))]));
    expect(table).toEqual({
      province: CAPABILITIES,
      city: ['alerts:read', 'alerts:act', 'alerts:export', 'cities:read'],
      ops: ['cities:read', 'runs:read', 'queues'],
      viewer: ['alerts:read', 'alerts:export', 'cities:read', 'runs:read'],
    });
  });

  it('scopes a city official to the one city, everyone else to all', () => {
    const city = scopeOf({ role: 'city', cityCode: '510100' });
    expect(inScope(city, '510100')).toBe(true);
    expect(inScope(city, '510300')).toBe(false);
    expect(inScope(scopeOf({ role: 'province', cityCode: null }), '513400')).toBe(true);
    // A city account without a code (impossible by the table's CHECK) sees nothing rather than everything.
    expect(inScope(scopeOf({ role: 'city', cityCode: null }), '510100')).toBe(false);
  });

  it('narrows to a requested city only inside the scope', () => {
    const city = scopeOf({ role: 'city', cityCode: '510100' });
    expect(narrow(city, '510300')).toEqual({ all: false, cities: [] });
    expect(narrow(city, '510100')).toEqual({ all: false, cities: ['510100'] });
    expect(narrow(scopeOf({ role: 'viewer', cityCode: null }), '510300')).toEqual({ all: false, cities: ['510300'] });
  });
});

describe('account checks', () => {
  it('refuses wrong roles and city codes with a reason', () => {
    expect(checkAccount('admin', null)).toMatch(/role must be one of province \/ city \/ ops \/ viewer/);
    expect(checkAccount('city', null)).toMatch(/needs --city/);
    expect(checkAccount('city', '110100')).toMatch(/not one of Sichuan's 21/);
    expect(checkAccount('city', '510101')).toMatch(/not one of Sichuan's 21/);
    expect(checkAccount('ops', '510100')).toMatch(/only for the city role/);
    expect(checkAccount('city', '510100')).toBeUndefined();
    expect(checkAccount('province', undefined)).toBeUndefined();
  });

  it('checks e-mail addresses and passwords', () => {
    expect(checkEmail('officer@cd.gov.cn')).toBeUndefined();
    for (const bad of ['officer', 'a@b', "x'@y.cn; DROP TABLE account", '<script>@x.cn', `${'a'.repeat(250)}@x.cn`]) expect(checkEmail(bad)).toMatch(/not an e-mail address/);
    expect(checkPassword('short')).toMatch(/at least 12/);
    expect(checkPassword('aaaaaaaaaaaaaaaa')).toMatch(/6 different/);
    expect(checkPassword('password-is-long-1')).toMatch(/common word/);
    expect(checkPassword('x'.repeat(150) + 'abcdefghijklmnopqrstuvwxyz'.repeat(3))).toMatch(/at most 200/);
    expect(checkPassword('vN4-q8s-Lw2-zT7')).toBeUndefined();
  });

  it('shows an e-mail as the start of the mailbox and the domain only', () => {
    expect(maskedEmail('zhang.wei@CD.gov.cn')).toBe('zh***@cd.gov.cn');
    expect(maskedEmail('a@x.cn')).toBe('a***@x.cn');
    expect(maskedEmail('ab@x.cn')).toBe('a***@x.cn');
    expect(maskedEmail('not-an-address')).toBe('***');
  });
});
