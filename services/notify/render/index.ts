/**
 * The e-mail renderer: pure functions from a frozen NotificationPayload to a
 * subject, an HTML part, a plain-text part and inline PNG charts. The same
 * payload always renders the same e-mail.
 */
import type { EmployerAlertView, NotificationPayload, RenderedEmail } from '../notification.types.js';
import { renderChartPng } from './chart.js';
import { prepare, type ChartState, type Prepared } from './content.js';
import { renderHtml } from './html.js';
import { idToken, MAX_CHARTS, shortName } from './model.js';
import { renderSubject } from './subject.js';
import { renderText } from './text.js';

export { renderChartPng } from './chart.js';

type Attachment = RenderedEmail['attachments'][number];

function wantsChart(e: EmployerAlertView): boolean {
  return (e.level === 1 || e.level === 2) && e.series !== null;
}

/**
 * Charts for Ⅰ/Ⅱ employers with a series, in the order they are shown (open
 * alerts, then resolved ones), at most MAX_CHARTS. A chart that fails to
 * render is left out; the e-mail still goes.
 */
function charts(shown: EmployerAlertView[]): { states: Map<EmployerAlertView, ChartState>; attachments: Attachment[]; capped: boolean } {
  const states = new Map<EmployerAlertView, ChartState>();
  const attachments: Attachment[] = [];
  const byId = new Map<string, string>();
  let capped = false;
  for (const e of shown) {
    if (!wantsChart(e) || e.series === null) continue;
    const token = idToken(e.alertId);
    const existing = byId.get(token);
    if (existing !== undefined) {
      states.set(e, { state: 'shown', cid: existing });
      continue;
    }
    if (attachments.length >= MAX_CHARTS) {
      states.set(e, { state: 'capped' });
      capped = true;
      continue;
    }
    const cid = `chart-${token}@layoff-ews`;
    try {
      const content = renderChartPng(e.series, shortName(e.name));
      attachments.push({ filename: `chart-${token}.png`, cid, contentType: 'image/png', content });
      byId.set(token, cid);
      states.set(e, { state: 'shown', cid });
    } catch {
      states.set(e, { state: 'failed' });
    }
  }
  return { states, attachments, capped };
}

export function renderEmail(p: NotificationPayload): RenderedEmail {
  const base = prepare(p);
  const chartSet = charts([...base.active, ...base.resolved]);
  const x: Prepared = { ...base, charts: chartSet.states, capped: chartSet.capped };
  const subject = renderSubject(p);
  return { subject, html: renderHtml(x, subject), text: renderText(x), attachments: chartSet.attachments };
}
