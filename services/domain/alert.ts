/**
 * What an alert is about and why an e-mail mentions it: shared by scoring
 * (which kinds of finding raise which alert), alerts, notify and the CLI.
 */

/** Employer alerts: a layoff (or its run-up), an unreported statutory layoff, a data cross-check; city alerts: systemic risk. */
export type AlertKind = 'layoff' | 'unreported' | 'crosscheck' | 'systemic';

export type EmployerAlertKind = Exclude<AlertKind, 'systemic'>;

export type AlertSubjectType = 'employer' | 'city';

export type AlertStatus = 'pending' | 'open' | 'acknowledged' | 'resolved';

export type AlertAction =
  | 'raised' | 'confirmed' | 'updated' | 'escalated' | 'deescalated' | 'acknowledged' | 'resolved'
  | 'reopened' | 'lapsed' | 'reminded' | 'escalated_to_province';

/** Why the alert is in this e-mail. */
export type AlertChange = 'new' | 'escalated' | 'reopened' | 'updated' | 'unacknowledged' | 'resolved';
