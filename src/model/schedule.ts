/**
 * Access Monitoring Rule schedules (`spec.schedules`, Teleport v18): named weekly shifts in a
 * time zone. A rule with schedules applies only to requests created inside one of them.
 * The shapes here are structural, so the generated proto types and the `access rule` model
 * (whose field names are the same single words) both fit.
 *
 * Mirrors lib/services/access_monitoring_rules.go (validateSchedules, validateTimeSchedule,
 * validateShift, clockTime) and lib/accessmonitoring/schedule.go (InSchedules, inSchedule,
 * ClockTime).
 */

export interface ShiftLike {
  weekday: string;
  start: string;
  end: string;
}

export interface TimeScheduleLike {
  shifts: readonly ShiftLike[];
  timezone: string;
}

export interface ScheduleLike {
  time?: TimeScheduleLike | undefined;
}

export type Schedules = Readonly<Record<string, ScheduleLike>>;

/** time.Weekday.String() order, Sunday first. */
export const WEEKDAYS = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
] as const;

/**
 * api/types: ParseWeekday — case-insensitive full name or three-letter short form. Note that
 * Teleport's matcher (inSchedule) then compares the shift's weekday with the full name exactly,
 * so "mon" or "monday" validate but never match; we keep both behaviours.
 */
export function parseWeekday(s: string): number | undefined {
  const lower = s.toLowerCase();
  const i = WEEKDAYS.findIndex((w) => w.toLowerCase() === lower || w.slice(0, 3).toLowerCase() === lower);
  return i < 0 ? undefined : i;
}

/**
 * Minutes after midnight of an `HH:MM` clock time, as Go's time.Parse("15:04", s) reads it:
 * one- or two-digit hour below 24, two-digit minute below 60, nothing else.
 */
export function parseClock(s: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) return undefined;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour >= 24 || minute >= 60) return undefined;
  return hour * 60 + minute;
}

function clockError(what: 'start' | 'end', s: string): string {
  return `invalid ${what} time: parsing time ${JSON.stringify(s)} as "15:04" (24-hour HH:MM)`;
}

/**
 * lib/services/access_monitoring_rules.go validateSchedules: every schedule needs `time` with at
 * least one shift; each shift a weekday ParseWeekday accepts, and start strictly before end
 * (a shift cannot cross midnight). The time zone is not checked there: a bad one makes the rule
 * skipped when evaluated. Returns the problem, or undefined.
 */
export function scheduleProblem(schedules: Schedules): string | undefined {
  for (const [name, schedule] of Object.entries(schedules)) {
    const time = schedule.time;
    if (!time) return `spec.schedules[${name}].time is required`;
    const where = `validating spec.schedules[${name}].time`;
    if (time.shifts.length === 0) return `${where}: at least one shift is required`;
    for (const shift of time.shifts) {
      const bad = (msg: string) => `${where}: shift is invalid: ${msg}`;
      if (parseWeekday(shift.weekday) === undefined) return bad(`failed to parse weekday: ${shift.weekday}`);
      const start = parseClock(shift.start);
      if (start === undefined) return bad(clockError('start', shift.start));
      const end = parseClock(shift.end);
      if (end === undefined) return bad(clockError('end', shift.end));
      if (start >= end) return bad('start time must be before end time');
    }
  }
  return undefined;
}

/** A schedule the matcher cannot evaluate: a zone time.LoadLocation cannot load, a bad clock time. */
export class ScheduleError extends Error {}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** time.LoadLocation: "" and "UTC" are UTC, "Local" is the host's zone, else an IANA name. */
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (f) return f;
  const zone = timezone === '' ? 'UTC' : timezone === 'Local' ? undefined : timezone;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      weekday: 'long',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
  } catch {
    throw new ScheduleError(`unknown time zone ${timezone}`);
  }
  formatters.set(timezone, f);
  return f;
}

/** The wall clock of `at` in a zone: weekday name and milliseconds after local midnight. */
function wallClock(at: Date, timezone: string): { weekday: string; ms: number } {
  const parts = formatter(timezone).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const ms =
    ((Number(get('hour')) * 60 + Number(get('minute'))) * 60 + Number(get('second'))) * 1000 +
    at.getUTCMilliseconds();
  return { weekday: get('weekday'), ms };
}

/**
 * lib/accessmonitoring/schedule.go inSchedule: the moment, seen in the schedule's zone, falls on
 * a shift's weekday (full English name, exact case) between start and end, both inclusive
 * (end means HH:MM:00.000). Throws ScheduleError for a zone that cannot be loaded.
 */
export function inSchedule(schedule: ScheduleLike, at: Date): boolean {
  const time = schedule.time;
  if (!time || time.shifts.length === 0) return false;
  const wall = wallClock(at, time.timezone);
  for (const shift of time.shifts) {
    if (shift.weekday !== wall.weekday) continue;
    const start = parseClock(shift.start);
    const end = parseClock(shift.end);
    if (start === undefined) throw new ScheduleError(clockError('start', shift.start));
    if (end === undefined) throw new ScheduleError(clockError('end', shift.end));
    if (wall.ms >= start * 60_000 && wall.ms <= end * 60_000) return true;
  }
  return false;
}

/**
 * lib/accessmonitoring/schedule.go InSchedules: inside any of the schedules (false when there
 * are none). Go walks its map in random order; we walk by name so an error is reproducible.
 */
export function inSchedules(schedules: Schedules, at: Date): boolean {
  for (const name of Object.keys(schedules).sort()) {
    if (inSchedule(schedules[name]!, at)) return true;
  }
  return false;
}

/**
 * Whether schedules let a rule apply at `at`, as lib/accessmonitoring (EvaluateRules) decides:
 * no schedules → yes; a schedule it cannot evaluate → no, and `warn` hears why (Teleport logs
 * "Failed to evaluate access monitoring rule schedules" and skips the rule).
 */
export function scheduleAllows(
  schedules: Schedules | undefined,
  at: Date,
  warn: (message: string) => void = () => {},
): boolean {
  if (!schedules || Object.keys(schedules).length === 0) return true;
  try {
    return inSchedules(schedules, at);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    warn(err.message);
    return false;
  }
}
