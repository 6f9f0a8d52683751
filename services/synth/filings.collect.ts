import type { PlannedEvent } from './event.model.js';
import { formatDay } from './period.calendar.js';

/**
 * 经济性裁员方案报告 received in one month. Rows arrive while employers are
 * simulated, in employer order; the batch lists them by date received, and
 * report numbers follow that order.
 */
interface Filing {
  readonly ev: PlannedEvent;
  readonly uscc: string;
  readonly cityCode: string;
}

export const FILINGS_HEADER = 'filing_id,uscc,filed_on,effective_on,planned_count,staff_total,reason';

export class FilingCollector {
  private items: Filing[] = [];

  add(ev: PlannedEvent, uscc: string, cityCode: string): void {
    this.items.push({ ev, uscc, cityCode });
  }

  /** The month's rows, numbered; clears the collector. */
  take(period: string): string[] {
    const items = this.items.sort((a, b) => a.ev.filedDayNo - b.ev.filedDayNo || (a.uscc < b.uscc ? -1 : a.uscc > b.uscc ? 1 : 0));
    this.items = [];
    const compact = period.replace('-', '');
    return items.map((f, i) => {
      const id = `LF${f.cityCode}-${compact}-${String(i + 1).padStart(4, '0')}`;
      f.ev.filingId = id;
      return [id, f.uscc, formatDay(f.ev.filedDayNo), formatDay(f.ev.effectiveDayNo), f.ev.plannedCount, f.ev.staffAtFiling, f.ev.filingReason].join(',');
    });
  }
}
