/**
 * One employer's monthly history packed into a few hundred bytes: what the
 * scoring stage keeps from one night to the next (series_pack), so that a
 * night reads one row per employer and the month that changed instead of 25
 * rows per employer. Reading those rows cost PostgreSQL more than all the
 * scoring after them (docs/architecture.md, "Reading"); one packed value is
 * cheap to send and to unpack.
 *
 * Layout, for `months` months (oldest first):
 *   - a bitmap of the months with a social-insurance row, then one of the
 *     months with a headcount report (ceil(months / 8) bytes each);
 *   - per social-insurance month: insured, hired, separated, arrears months,
 *     the wage base, UI claims, separated by transfer, natural, migrant and
 *     graduate;
 *   - per headcount month: jobs at the start, at the end, lost, planned
 *     layoffs, furloughed.
 * Integers are zigzag varints (so -1, "not reported", is one byte). The wage
 * base is its cents as a varint when that gives back the same double, and
 * otherwise the double's eight bytes: either way the value read back is the
 * value packed, bit for bit.
 *
 * The layout has a number, PACK_FORMAT, kept with each bucket's pack
 * (series_pack_state.format): a pack of another layout is not read.
 */

/** The layout above. 1: up to migrant; 2: graduate added (sql/009_key_groups.sql). */
export const PACK_FORMAT = 2;

/** The columns of a SeriesBatch that hold monthly values (index employer × months + month). */
export interface MonthColumns {
  si: Uint8Array;
  insured: Int32Array;
  hired: Int32Array;
  separated: Int32Array;
  arrearsMonths: Int32Array;
  wageBaseTotal: Float64Array;
  uiClaims: Int32Array;
  separatedTransfer: Int32Array;
  separatedNatural: Int32Array;
  separatedMigrant: Int32Array;
  separatedGraduate: Int32Array;
  hc: Uint8Array;
  jobsBegin: Int32Array;
  jobsEnd: Int32Array;
  jobsLost: Int32Array;
  plannedLayoffs: Int32Array;
  furloughed: Int32Array;
}

export class PackFormatError extends Error {
  override name = 'PackFormatError';
}

/** A growing byte buffer for packed values. */
export class PackWriter {
  private buf = Buffer.alloc(4096);
  private len = 0;

  reset(): void {
    this.len = 0;
  }

  get length(): number {
    return this.len;
  }

  /** The bytes written since the last reset (a view: copy or use before the next reset). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  byte(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  /** An unsigned integer up to 2^53, seven bits a byte. */
  uvar(v: number): void {
    this.room(8);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.len++] = x;
  }

  /** A signed 32-bit integer, zigzag then varint. */
  svar(v: number): void {
    this.uvar(((v << 1) ^ (v >> 31)) >>> 0);
  }

  double(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/** Packs employer `base / months`'s months [0, months) of src. */
export function packSeries(src: MonthColumns, base: number, months: number, out: PackWriter): void {
  const maskBytes = (months + 7) >> 3;
  for (const flags of [src.si, src.hc]) {
    for (let j = 0; j < maskBytes; j++) {
      let bits = 0;
      for (let b = 0; b < 8; b++) {
        const m = j * 8 + b;
        if (m < months && flags[base + m] === 1) bits |= 1 << b;
      }
      out.byte(bits);
    }
  }
  for (let m = 0; m < months; m++) {
    const k = base + m;
    if (src.si[k] !== 1) continue;
    out.svar(src.insured[k] as number);
    out.svar(src.hired[k] as number);
    out.svar(src.separated[k] as number);
    out.svar(src.arrearsMonths[k] as number);
    wage(out, src.wageBaseTotal[k] as number);
    out.svar(src.uiClaims[k] as number);
    out.svar(src.separatedTransfer[k] as number);
    out.svar(src.separatedNatural[k] as number);
    out.svar(src.separatedMigrant[k] as number);
    out.svar(src.separatedGraduate[k] as number);
  }
  for (let m = 0; m < months; m++) {
    const k = base + m;
    if (src.hc[k] !== 1) continue;
    out.svar(src.jobsBegin[k] as number);
    out.svar(src.jobsEnd[k] as number);
    out.svar(src.jobsLost[k] as number);
    out.svar(src.plannedLayoffs[k] as number);
    out.svar(src.furloughed[k] as number);
  }
}

function wage(out: PackWriter, w: number): void {
  const cents = Math.round(w * 100);
  if (cents >= 0 && Number.isSafeInteger(cents * 2) && cents / 100 === w && !Object.is(w, -0)) out.uvar(cents * 2);
  else {
    out.uvar(1);
    out.double(w);
  }
}

/**
 * Unpacks a value of `packMonths` months into employer `base / months` of
 * dst, moved `shift` months earlier (pack month j lands on month j − shift;
 * months that fall outside [0, months) are dropped). Months the value has
 * no row for are left as they are. A value that is cut short or runs on is
 * refused: the caller reads that employer from its rows instead.
 */
export function unpackSeries(bytes: Uint8Array, from: number, end: number, packMonths: number, dst: MonthColumns, base: number, months: number, shift: number): void {
  const r = new PackReader(bytes, from, end);
  const maskBytes = (packMonths + 7) >> 3;
  const siFrom = r.pos;
  const hcFrom = siFrom + maskBytes;
  r.pos = hcFrom + maskBytes;
  if (r.pos > end) throw new PackFormatError('packed series shorter than its month bitmaps');
  for (let j = 0; j < packMonths; j++) {
    if (((bytes[siFrom + (j >> 3)] as number) & (1 << (j & 7))) === 0) continue;
    const m = j - shift;
    const insured = r.svar();
    const hired = r.svar();
    const separated = r.svar();
    const arrears = r.svar();
    const w = r.wage();
    const claims = r.svar();
    const transfer = r.svar();
    const natural = r.svar();
    const migrant = r.svar();
    const graduate = r.svar();
    if (m < 0 || m >= months) continue;
    const k = base + m;
    dst.si[k] = 1;
    dst.insured[k] = insured;
    dst.hired[k] = hired;
    dst.separated[k] = separated;
    dst.arrearsMonths[k] = arrears;
    dst.wageBaseTotal[k] = w;
    dst.uiClaims[k] = claims;
    dst.separatedTransfer[k] = transfer;
    dst.separatedNatural[k] = natural;
    dst.separatedMigrant[k] = migrant;
    dst.separatedGraduate[k] = graduate;
  }
  for (let j = 0; j < packMonths; j++) {
    if (((bytes[hcFrom + (j >> 3)] as number) & (1 << (j & 7))) === 0) continue;
    const m = j - shift;
    const begin = r.svar();
    const endJobs = r.svar();
    const lost = r.svar();
    const planned = r.svar();
    const furloughed = r.svar();
    if (m < 0 || m >= months) continue;
    const k = base + m;
    dst.hc[k] = 1;
    dst.jobsBegin[k] = begin;
    dst.jobsEnd[k] = endJobs;
    dst.jobsLost[k] = lost;
    dst.plannedLayoffs[k] = planned;
    dst.furloughed[k] = furloughed;
  }
  if (r.pos !== end) throw new PackFormatError(`packed series has ${end - r.pos} bytes more than its months hold`);
}

class PackReader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}

  uvar(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new PackFormatError('packed series ends inside a number');
      const b = this.bytes[this.pos++] as number;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new PackFormatError('packed number longer than 8 bytes');
    }
  }

  svar(): number {
    const u = this.uvar();
    if (u > 0xffffffff) throw new PackFormatError('packed integer out of the 32-bit range');
    return (u >>> 1) ^ -(u & 1);
  }

  wage(): number {
    const u = this.uvar();
    if (u % 2 === 0) return u / 2 / 100;
    if (u !== 1) throw new PackFormatError('packed wage base has an unknown tag');
    if (this.pos + 8 > this.end) throw new PackFormatError('packed series ends inside a wage base');
    const v = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).readDoubleLE(0);
    this.pos += 8;
    return v;
  }
}
