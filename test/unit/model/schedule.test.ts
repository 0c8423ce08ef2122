/**
 * Access Monitoring Rule schedules: matching as lib/accessmonitoring/schedule.go (InSchedules)
 * and validation as lib/services/access_monitoring_rules.go (validateSchedules).
 */
import { describe, expect, it } from 'vitest';
import {
  inSchedules,
  parseClock,
  parseWeekday,
  ScheduleError,
  type Schedules,
  scheduleAllows,
  scheduleProblem,
} from '../../../src/model/schedule.js';

const one = (timezone: string, ...shifts: [string, string, string][]): Schedules => ({
  s: { time: { timezone, shifts: shifts.map(([weekday, start, end]) => ({ weekday, start, end })) } },
});

// 2026-03-04 is a Wednesday.
const nineToFiveUtc = one('UTC', ['Wednesday', '09:00', '17:00']);
const tokyo = one('Asia/Tokyo', ['Wednesday', '09:00', '17:00']); // UTC+9, no DST
const newYork = one('America/New_York', ['Sunday', '01:00', '04:00']); // DST starts 2026-03-08 02:00

describe('inSchedules', () => {
  it.each([
    ['start is inclusive', nineToFiveUtc, '2026-03-04T09:00:00.000Z', true],
    ['a millisecond before start', nineToFiveUtc, '2026-03-04T08:59:59.999Z', false],
    ['inside', nineToFiveUtc, '2026-03-04T12:34:56.000Z', true],
    ['end is inclusive (HH:MM:00)', nineToFiveUtc, '2026-03-04T17:00:00.000Z', true],
    ['a millisecond after end', nineToFiveUtc, '2026-03-04T17:00:00.001Z', false],
    ['the end minute itself is not included past :00', nineToFiveUtc, '2026-03-04T17:00:30.000Z', false],
    ['other weekday, same hours', nineToFiveUtc, '2026-03-05T12:00:00.000Z', false],
    ['empty timezone is UTC', one('', ['Wednesday', '09:00', '17:00']), '2026-03-04T09:00:00.000Z', true],
    ['Tokyo: 00:00Z is 09:00 there', tokyo, '2026-03-04T00:00:00.000Z', true],
    ['Tokyo: 08:01Z is 17:01 there', tokyo, '2026-03-04T08:01:00.000Z', false],
    ['Tokyo: Tuesday 23:30Z is Wednesday 08:30 there', tokyo, '2026-03-03T23:30:00.000Z', false],
    [
      'Tokyo: Tuesday 15:00Z is Wednesday 00:00 there',
      one('Asia/Tokyo', ['Wednesday', '00:00', '01:00']),
      '2026-03-03T15:00:00.000Z',
      true,
    ],
    ['New York before DST: 06:30Z is Sunday 01:30 EST', newYork, '2026-03-01T06:30:00.000Z', true],
    ['New York after DST: 06:30Z is Sunday 02:30 EDT', newYork, '2026-03-15T06:30:00.000Z', true],
    ['New York after DST: 08:30Z is 04:30 EDT', newYork, '2026-03-15T08:30:00.000Z', false],
    [
      'weekday must be the full name, exact case',
      one('UTC', ['wednesday', '00:00', '23:59']),
      '2026-03-04T12:00:00.000Z',
      false,
    ],
    [
      'short weekday validates but never matches',
      one('UTC', ['Wed', '00:00', '23:59']),
      '2026-03-04T12:00:00.000Z',
      false,
    ],
    [
      'one shift of several',
      one('UTC', ['Monday', '09:00', '10:00'], ['Wednesday', '11:00', '12:00']),
      '2026-03-04T11:30:00.000Z',
      true,
    ],
    [
      'a single-digit hour parses',
      one('UTC', ['Wednesday', '9:00', '9:30']),
      '2026-03-04T09:15:00.000Z',
      true,
    ],
    ['no shifts never matches', one('UTC'), '2026-03-04T12:00:00.000Z', false],
    ['no time never matches', { s: {} }, '2026-03-04T12:00:00.000Z', false],
  ] as [string, Schedules, string, boolean][])('%s', (_name, schedules, at, want) => {
    expect(inSchedules(schedules, new Date(at))).toBe(want);
  });

  it('is true when any schedule matches, false when there are none', () => {
    const two: Schedules = { ...one('UTC', ['Monday', '09:00', '10:00']), b: tokyo.s! };
    expect(inSchedules(two, new Date('2026-03-04T01:00:00Z'))).toBe(true);
    expect(inSchedules({}, new Date('2026-03-04T01:00:00Z'))).toBe(false);
  });

  it('cannot load an unknown time zone: an error, and scheduleAllows skips the rule', () => {
    const bad = one('Mars/Olympus_Mons', ['Wednesday', '00:00', '23:59']);
    expect(() => inSchedules(bad, new Date('2026-03-04T12:00:00Z'))).toThrow(ScheduleError);
    const warnings: string[] = [];
    expect(scheduleAllows(bad, new Date('2026-03-04T12:00:00Z'), (m) => warnings.push(m))).toBe(false);
    expect(warnings).toEqual(['unknown time zone Mars/Olympus_Mons']);
  });

  it('scheduleAllows: no schedules means the rule always applies', () => {
    expect(scheduleAllows(undefined, new Date())).toBe(true);
    expect(scheduleAllows({}, new Date())).toBe(true);
    expect(scheduleAllows(nineToFiveUtc, new Date('2026-03-04T18:00:00Z'))).toBe(false);
  });
});

describe('parseWeekday and parseClock (types.ParseWeekday, time.Parse("15:04"))', () => {
  it.each([
    ['Sunday', 0],
    ['monday', 1],
    ['TUE', 2],
    ['wed', 3],
    ['Thursday', 4],
    ['fri', 5],
    ['Sat', 6],
    ['Mo', undefined],
    ['Wednes', undefined],
    ['', undefined],
  ] as [string, number | undefined][])('weekday %j → %j', (s, want) => {
    expect(parseWeekday(s)).toBe(want);
  });

  it.each([
    ['00:00', 0],
    ['9:05', 545],
    ['23:59', 1439],
    ['24:00', undefined],
    ['12:60', undefined],
    ['12:5', undefined],
    ['123:00', undefined],
    ['12:00:00', undefined],
    [' 12:00', undefined],
    ['noon', undefined],
  ] as [string, number | undefined][])('clock %j → %j', (s, want) => {
    expect(parseClock(s)).toBe(want);
  });
});

describe('scheduleProblem (validateSchedules)', () => {
  it.each([
    ['a valid schedule', one('Europe/Lisbon', ['monday', '09:00', '17:00']), undefined],
    ['no time', { night: {} }, 'spec.schedules[night].time is required'],
    ['no shifts', one('UTC'), 'validating spec.schedules[s].time: at least one shift is required'],
    [
      'bad weekday',
      one('UTC', ['Funday', '09:00', '17:00']),
      'validating spec.schedules[s].time: shift is invalid: failed to parse weekday: Funday',
    ],
    [
      'bad start',
      one('UTC', ['Monday', '25:00', '26:00']),
      'validating spec.schedules[s].time: shift is invalid: invalid start time: parsing time "25:00" as "15:04" (24-hour HH:MM)',
    ],
    [
      'bad end',
      one('UTC', ['Monday', '09:00', '5pm']),
      'validating spec.schedules[s].time: shift is invalid: invalid end time: parsing time "5pm" as "15:04" (24-hour HH:MM)',
    ],
    [
      'start equal to end',
      one('UTC', ['Monday', '09:00', '09:00']),
      'validating spec.schedules[s].time: shift is invalid: start time must be before end time',
    ],
    [
      'across midnight',
      one('UTC', ['Monday', '22:00', '02:00']),
      'validating spec.schedules[s].time: shift is invalid: start time must be before end time',
    ],
    // Teleport does not check the zone when writing; the rule is skipped when evaluated.
    ['unknown zone is accepted', one('Mars/Olympus_Mons', ['Monday', '09:00', '17:00']), undefined],
  ] as [string, Schedules, string | undefined][])('%s', (_name, schedules, want) => {
    expect(scheduleProblem(schedules)).toBe(want);
  });
});
