import { types } from 'pg';

const general = types.getTypeParser(types.builtins.TIMESTAMPTZ, 'text') as (text: string) => Date | number | null;

/** The value of two (or four) ASCII digits at `at`, or NaN when one is not a digit. */
function digits(s: string, at: number, count: 2 | 4): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/**
 * A timestamptz as PostgreSQL writes it in the ISO date style ('2026-11-24 09:11:04.556123+00',
 * '... +05:30', '... -03:00:12'), read by position: the driver's general parser (postgres-date)
 * runs three regular expressions on every value, a third of the time spent reading a row of
 * opportunities. Anything else (BC, infinity, a year before 1000 or after 9999, another date style)
 * goes to the general parser, which this one agrees with to the millisecond.
 */
export function parseTimestamptz(s: string): Date | number | null {
  if (s.length < 22 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58)
    return general(s);
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46 /* . */) {
    // Milliseconds are the first three digits; the Date drops the microseconds, as the general parser's does.
    let scale = 100;
    for (i++; i < s.length; i++, scale /= 10) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (scale >= 1) ms += d * scale;
    }
  }
  const sign = s.charCodeAt(i) === 43 /* + */ ? 1 : s.charCodeAt(i) === 45 /* - */ ? -1 : 0;
  let offset = digits(s, i + 1, 2) * 3600;
  i += 3;
  for (const unit of [60, 1]) {
    if (i >= s.length || s.charCodeAt(i) !== 58 /* : */) break;
    offset += digits(s, i + 1, 2) * unit;
    i += 3;
  }
  // Not all of it read, or not what was expected: the general parser decides.
  if (!sign || i !== s.length || year < 1000 || Number.isNaN(year + month + day + hour + minute + second + offset)) return general(s);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - sign * offset * 1000);
}
