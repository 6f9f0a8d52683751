import { USCC_ALPHABET } from '../domain/uscc.js';

/**
 * Remembers the first line of each row key within a batch, to catch
 * duplicates. A million USCC keys in a Map<string, number> cost ~100 MB;
 * here a USCC is packed into two exact doubles (nine base-31 digits each,
 * 31^9 < 2^53) in an open-addressing table of typed arrays: ~40 MB, no
 * garbage. Other keys (filing ids, city codes: small feeds) use a Map.
 */
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < USCC_ALPHABET.length; i++) VALUE[USCC_ALPHABET.charCodeAt(i)] = i;

export class FirstLineIndex {
  private hi = new Float64Array(1 << 16);
  private lo = new Float64Array(1 << 16);
  private line = new Int32Array(1 << 16);
  private size = 0;
  private readonly other = new Map<string, number>();

  /** The line the key was first seen on, or undefined (and it is remembered with this line). */
  firstLine(key: string, line: number): number | undefined {
    const packed = pack(key);
    if (packed === undefined) {
      const seen = this.other.get(key);
      if (seen === undefined) this.other.set(key, line);
      return seen;
    }
    if ((this.size + 1) * 2 > this.line.length) this.grow();
    return this.insert(packed[0], packed[1], line);
  }

  private insert(hi: number, lo: number, line: number): number | undefined {
    const mask = this.line.length - 1;
    let i = mix(hi, lo) & mask;
    for (;;) {
      const at = this.line[i] as number;
      if (at === 0) {
        this.hi[i] = hi;
        this.lo[i] = lo;
        this.line[i] = line;
        this.size++;
        return undefined;
      }
      if (this.hi[i] === hi && this.lo[i] === lo) return at;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const { hi, lo, line } = this;
    this.hi = new Float64Array(hi.length * 2);
    this.lo = new Float64Array(lo.length * 2);
    this.line = new Int32Array(line.length * 2);
    this.size = 0;
    for (let i = 0; i < line.length; i++) if ((line[i] as number) !== 0) this.insert(hi[i] as number, lo[i] as number, line[i] as number);
  }
}

function pack(key: string): [number, number] | undefined {
  if (key.length !== 18) return undefined;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 18; i++) {
    const c = key.charCodeAt(i);
    const v = c < 128 ? (VALUE[c] as number) : -1;
    if (v < 0) return undefined;
    if (i < 9) hi = hi * 31 + v;
    else lo = lo * 31 + v;
  }
  return [hi, lo];
}

function mix(hi: number, lo: number): number {
  let h = Math.imul((hi % 4294967296) ^ Math.floor(hi / 4294967296), 0x9e3779b1);
  h ^= Math.imul((lo % 4294967296) ^ Math.floor(lo / 4294967296), 0x85ebca77);
  h ^= h >>> 15;
  return Math.imul(h, 0xc2b2ae3d) >>> 0;
}
