import { Client } from 'pg';
import { parseTimestamptz } from '../src/db/timestamptz';

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** An instant (milliseconds, plus microseconds past them) written as PostgreSQL writes a timestamptz in a zone `offsetSeconds` east of UTC. */
function asPostgresWrites(epochMs: number, micros: number, offsetSeconds: number): string {
  const local = new Date(epochMs + offsetSeconds * 1000);
  const sub = local.getUTCMilliseconds() * 1000 + micros;
  const fraction = sub ? '.' + pad(sub, 6).replace(/0+$/, '') : '';
  const off = Math.abs(offsetSeconds);
  const zone = `${offsetSeconds < 0 ? '-' : '+'}${pad(Math.floor(off / 3600))}${off % 3600 ? ':' + pad(Math.floor((off % 3600) / 60)) : ''}${off % 60 ? ':' + pad(off % 60) : ''}`;
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction}${zone}`;
}

describe('reading timestamptz text', () => {
  it('gives the instant to the millisecond for any time, fraction and offset PostgreSQL writes', () => {
    const offsets = [0, 3600, -3600, 19800, -12600, 20700, 1172, -3 * 3600 - 12, 14 * 3600, -12 * 3600];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 5000; i++) {
      // From year 1000 to 9000; every fifth on a whole second.
      const whole = i % 5 === 0;
      const ms = Math.floor(-30_000_000_000_000 + random() * 250_000_000_000_000);
      const epochMs = whole ? ms - (((ms % 1000) + 1000) % 1000) : ms;
      const text = asPostgresWrites(epochMs, whole ? 0 : Math.floor(random() * 1000), offsets[i % offsets.length]);
      const parsed = parseTimestamptz(text) as Date;
      expect({ text, ms: parsed.getTime() }).toEqual({ text, ms: epochMs });
    }
  });

  it('hands what it does not read by position to the general parser: infinity, BC, early and five-digit years', () => {
    expect(parseTimestamptz('infinity')).toBe(Infinity);
    expect(parseTimestamptz('-infinity')).toBe(-Infinity);
    expect((parseTimestamptz('0044-03-15 12:00:00+00 BC') as Date).getUTCFullYear()).toBe(-43);
    expect((parseTimestamptz('0099-01-02 03:04:05+00') as Date).toISOString()).toBe('0099-01-02T03:04:05.000Z');
    expect((parseTimestamptz('12345-01-02 03:04:05.5+00') as Date).getUTCFullYear()).toBe(12345);
  });

  it('reads what PostgreSQL writes in zones with odd offsets, as PostgreSQL counts the milliseconds', async () => {
    const c = new Client({ connectionString: process.env.TRELLIS_TEST_OWNER_URL });
    await c.connect();
    try {
      for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Europe/Amsterdam', 'Pacific/Chatham', 'America/Sao_Paulo']) {
        await c.query(`SET TimeZone = '${zone}'`);
        const { rows } = await c.query<{ text: string; ms: number }>(`
          SELECT ts::text AS text, floor(extract(epoch FROM ts) * 1000)::float8 AS ms FROM (VALUES
            ('2026-11-24 09:11:04.556123+00'::timestamptz), ('2026-03-29 01:30:00+00'), ('1900-01-01 00:00:00.5555+00'),
            ('1937-06-30 23:59:59.999999+00'), ('1000-01-01 00:00:00+00'), ('9999-12-31 23:59:59.999+00'),
            ('2000-02-29 12:00:00.001+00'), ('infinity'), ('-infinity'), ('0044-03-15 12:00:00+00 BC')) v(ts)`);
        for (const r of rows) {
          const parsed = parseTimestamptz(r.text);
          expect({ zone, text: r.text, ms: typeof parsed === 'number' ? parsed : (parsed as Date).getTime() }).toEqual({ zone, text: r.text, ms: r.ms });
        }
      }
    } finally {
      await c.end();
    }
  });
});
