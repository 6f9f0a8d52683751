/**
 * Subjects. Built only from the kind, levels, counts, the city name and the
 * period — never from employer names — and kept to one line.
 */
import type { Level } from '../../domain/level.js';
import type { NotificationPayload } from '../notification.types.js';
import { levelShort, numeral } from './labels.js';
import { countByLevel, highestLevel, isResolved, subjectPart, summaryTotals } from './model.js';

const PREFIX = '规模裁员预警';

/** 'Ⅲ级 5家、Ⅳ级 12家': most severe first, only levels present. */
function formatCounts(list: { level: Level; count: number }[]): string {
  return list
    .filter(({ count }) => count > 0)
    .map(({ level, count }) => `${levelShort(level)} ${count}家`)
    .join('、');
}

export function renderSubject(p: NotificationPayload): string {
  const city = subjectPart(p.cityName, 20);
  const period = subjectPart(p.period, 10);
  // Ⅰ/Ⅱ e-mails count the alerts still open (a resolution, should one be included, is no warning).
  const open = p.employers.filter((e) => !isResolved(e));
  const counted = open.length > 0 ? open : p.employers;
  const top = highestLevel(counted.map((e) => e.level));
  const n = counted.length;
  let subject: string;
  switch (p.kind) {
    case 'immediate': {
      if (n === 0 && p.city !== null) {
        subject = `【${PREFIX}·${levelShort(p.city.level)}】${city}：系统性失业风险`;
      } else {
        subject = `【${PREFIX}${top === null ? '' : `·${levelShort(top)}`}】${city}：${n}家企业`;
      }
      break;
    }
    case 'digest': {
      const resolved = p.employers.length - open.length;
      const parts: string[] = [];
      const byLevel = formatCounts(countByLevel(open.map((e) => e.level)));
      if (byLevel !== '') parts.push(byLevel);
      if (resolved > 0) parts.push(`解除 ${resolved}家`);
      let tail = parts.join('、');
      if (tail === '') {
        if (p.city !== null) tail = `系统性失业风险${levelShort(p.city.level)}`;
        else tail = p.dataMissing.length > 0 ? '数据缺失' : '无新增预警';
      }
      subject = `【${PREFIX}·日报】${city} ${period}：${tail}`;
      break;
    }
    case 'reminder': {
      const level = top ?? p.city?.level ?? null;
      subject = `【${PREFIX}${level === null ? '' : `·${levelShort(level)}`}·未确认提醒】${city}：${n}家企业`;
      break;
    }
    case 'escalation': {
      const days = counted.reduce<number | null>((max, e) => {
        const d = e.unacknowledgedDays;
        return d !== null && Number.isFinite(d) && (max === null || d > max) ? Math.floor(d) : max;
      }, null);
      subject = `【${PREFIX}·升级】${city}：${n}家企业${numeral(1)}/${numeral(2)}级预警${days === null ? '' : `超过${days}天`}未确认`;
      break;
    }
    case 'summary': {
      const byLevel = formatCounts(summaryTotals(p.summary ?? []));
      subject = `【${PREFIX}·全省日报】${period}：${byLevel === '' ? '无在办预警' : byLevel}`;
      break;
    }
  }
  // Belt and braces: a subject is one line whatever the parts were.
  return subject.replace(/[\r\n]+/g, ' ');
}
