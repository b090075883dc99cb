// Checks a ReportScheduleInput and turns it into what the meta store keeps, or says what is wrong.
import { Cron } from 'croner';
import { badInput } from '../../lib/graphql/errors.ts';
import {
  RANGE_RULES,
  type NewReportSchedule,
  type RangeRule,
  type ReportFormat,
} from '../../lib/meta/report-schedules.repo.ts';
import { METRICS, type MetricName } from '../../schema/event-envelope.ts';

export const LIMITS = {
  name: 100,
  accounts: 100,
  metrics: METRICS.length,
  recipients: 50,
  webhooks: 10,
  url: 2048,
};

export interface ReportScheduleInput {
  name: string;
  format: ReportFormat;
  /** Absent or null: the report runs only when asked (runReport). */
  cron?: string | null;
  timezone: string;
  accountIds?: string[] | null;
  competitorSetId?: string | null;
  metrics: string[];
  rangeRule?: RangeRule;
  recipients?: string[] | null;
  webhookUrls?: string[] | null;
}

// The shape HTML forms accept for type=email: one @, a dotted domain of DNS labels.
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const MAX_EMAIL_LENGTH = 254;

/**
 * Validates everything but ownership of the accounts or set, which needs the store; throws
 * BAD_USER_INPUT. `now` is what the cron's next instant is counted from.
 */
export function parseReportScheduleInput(
  input: ReportScheduleInput,
  now: Date = new Date(),
): NewReportSchedule {
  const name = input.name.trim();
  if (name.length === 0) throw badInput('name must not be empty');
  if (name.length > LIMITS.name) throw badInput(`name must be at most ${LIMITS.name} characters`);

  const timezone = input.timezone.trim();
  if (!isTimeZone(timezone)) {
    throw badInput(
      `unknown timezone ${JSON.stringify(input.timezone)}; use an IANA name such as Europe/Paris`,
    );
  }
  const cron =
    input.cron === undefined || input.cron === null || input.cron.trim() === ''
      ? null
      : input.cron.trim().split(/\s+/).join(' ');
  if (cron !== null) checkCron(cron, timezone);

  const accountIds = unique(input.accountIds ?? []);
  const competitorSetId = input.competitorSetId?.trim() || null;
  if (competitorSetId !== null && accountIds.length > 0) {
    throw badInput('name accountIds or a competitorSetId, not both');
  }
  if (competitorSetId === null && accountIds.length === 0) {
    throw badInput('accountIds must name at least one account (or give a competitorSetId)');
  }
  if (accountIds.length > LIMITS.accounts) {
    throw badInput(`a report covers at most ${LIMITS.accounts} accounts`);
  }

  const metrics = unique(input.metrics.map((m) => m.trim()));
  if (metrics.length === 0) throw badInput('metrics must name at least one metric');
  const unknownMetrics = metrics.filter((m) => toMetricName(m) === undefined);
  if (unknownMetrics.length > 0) {
    throw badInput(
      `unknown metrics ${unknownMetrics.map((m) => JSON.stringify(m)).join(', ')}; ` +
        `known: ${METRICS.map((m) => m.toUpperCase()).join(', ')}`,
    );
  }

  const recipients = uniqueBy(
    (input.recipients ?? []).map((r) => r.trim()),
    (r) => r.toLowerCase(),
  );
  if (recipients.length > LIMITS.recipients) {
    throw badInput(`a report goes to at most ${LIMITS.recipients} recipients`);
  }
  const badEmails = recipients.filter((r) => r.length > MAX_EMAIL_LENGTH || !EMAIL.test(r));
  if (badEmails.length > 0) {
    throw badInput(`not email addresses: ${badEmails.map((r) => JSON.stringify(r)).join(', ')}`);
  }

  const webhookUrls = unique((input.webhookUrls ?? []).map((u) => u.trim()));
  if (webhookUrls.length > LIMITS.webhooks) {
    throw badInput(`a report goes to at most ${LIMITS.webhooks} webhooks`);
  }
  const badUrls = webhookUrls.filter((u) => !isWebhookUrl(u));
  if (badUrls.length > 0) {
    throw badInput(
      `webhook URLs must be absolute http(s) URLs: ${badUrls.map((u) => JSON.stringify(u)).join(', ')}`,
    );
  }

  return {
    name,
    format: input.format,
    cron,
    timezone,
    accountIds,
    competitorSetId,
    metrics: unique(metrics.map((m) => toMetricName(m) as MetricName)),
    rangeRule: toRangeRule(input.rangeRule),
    recipients,
    webhookUrls,
    nextRunAt: cron === null ? null : nextRunAt(cron, timezone, now),
  };
}

// An input field's default is coerced before the enum's internal values are attached: both spellings.
function toRangeRule(value: string | undefined): RangeRule {
  const rule = (value ?? 'last_7_days').toLowerCase();
  if (!(RANGE_RULES as readonly string[]).includes(rule)) {
    throw badInput(`unknown rangeRule ${JSON.stringify(value)}`);
  }
  return rule as RangeRule;
}

function isWebhookUrl(value: string): boolean {
  if (value.length > LIMITS.url) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The lower-case metric a name means: its METRICS spelling or the GraphQL enum's upper case. */
export function toMetricName(name: string): MetricName | undefined {
  const lower = name === name.toUpperCase() ? name.toLowerCase() : name;
  return (METRICS as readonly string[]).includes(lower) ? (lower as MetricName) : undefined;
}

/** The next time a schedule fires after `after`, or null when its pattern never matches again. */
export function nextRunAt(cron: string, timezone: string, after: Date = new Date()): Date | null {
  // No callback: croner computes dates without arming a timer.
  return new Cron(cron, { timezone, mode: '5-part' }).nextRun(after);
}

function checkCron(cron: string, timezone: string): void {
  if (cron.split(' ').length !== 5 || cron.startsWith('@')) {
    throw badInput(
      `cron must have five fields (minute hour day-of-month month day-of-week), got ${JSON.stringify(cron)}`,
    );
  }
  let next: Date | null;
  try {
    next = nextRunAt(cron, timezone);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, '') : '';
    throw badInput(`cron ${JSON.stringify(cron)} is not valid: ${reason}`);
  }
  if (next === null) throw badInput(`cron ${JSON.stringify(cron)} never fires`);
}

function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function uniqueBy(values: readonly string[], key: (value: string) => string): string[] {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const value of values) {
    if (seen.has(key(value))) continue;
    seen.add(key(value));
    kept.push(value);
  }
  return kept;
}
