/**
 * Formats a Date with a Go reference layout ("2006-01-02 15:04:05 -0700 MST"), so confd templates'
 * `datetime.Format "…"` layouts carry over as `datetime "…"`. Precision is milliseconds.
 */

export type TimeZoneChoice = 'local' | 'utc';

/** Go's named layouts (time.RFC3339 …), usable by name. */
export const NAMED_LAYOUTS: Readonly<Record<string, string>> = {
  Layout: '01/02 03:04:05PM \'06 -0700',
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  Stamp: 'Jan _2 15:04:05',
  StampMilli: 'Jan _2 15:04:05.000',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
};

/** What Go prints for time.Now() in a template (without the monotonic clock reading). */
export const DEFAULT_LAYOUT = '2006-01-02 15:04:05.999999999 -0700 MST';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

interface Fields {
  year: number;
  month: number; // 0-11
  day: number;
  weekday: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  offsetMin: number; // east of UTC
  zoneName: string;
  yday: number;
}

function pad(n: number, width: number, fill = '0'): string {
  return String(n).padStart(width, fill);
}

function zoneAbbreviation(date: Date, offsetMin: number, zone: TimeZoneChoice): string {
  if (zone === 'utc') return 'UTC';
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName');
  const name = part?.value ?? '';
  if (/^[A-Z]{2,5}$/.test(name)) return name;
  // No abbreviation known: Go prints the offset, e.g. "+01" or "+0530".
  const sign = offsetMin < 0 ? '-' : '+';
  const a = Math.abs(offsetMin);
  return `${sign}${pad(Math.floor(a / 60), 2)}${a % 60 === 0 ? '' : pad(a % 60, 2)}`;
}

function fieldsOf(date: Date, zone: TimeZoneChoice): Fields {
  const utc = zone === 'utc';
  const year = utc ? date.getUTCFullYear() : date.getFullYear();
  const month = utc ? date.getUTCMonth() : date.getMonth();
  const day = utc ? date.getUTCDate() : date.getDate();
  const offsetMin = utc ? 0 : -date.getTimezoneOffset();
  const yday = Math.round((Date.UTC(year, month, day) - Date.UTC(year, 0, 1)) / 86_400_000) + 1;
  return {
    year,
    month,
    day,
    weekday: utc ? date.getUTCDay() : date.getDay(),
    hour: utc ? date.getUTCHours() : date.getHours(),
    minute: utc ? date.getUTCMinutes() : date.getMinutes(),
    second: utc ? date.getUTCSeconds() : date.getSeconds(),
    ms: utc ? date.getUTCMilliseconds() : date.getMilliseconds(),
    offsetMin,
    zoneName: zoneAbbreviation(date, offsetMin, zone),
    yday,
  };
}

function offset(f: Fields, zulu: boolean, colon: boolean, withSeconds: boolean, hoursOnly: boolean): string {
  if (zulu && f.offsetMin === 0) return 'Z';
  const sign = f.offsetMin < 0 ? '-' : '+';
  const a = Math.abs(f.offsetMin);
  const hh = pad(Math.floor(a / 60), 2);
  const mm = pad(a % 60, 2);
  if (hoursOnly) return `${sign}${hh}`;
  const sep = colon ? ':' : '';
  return `${sign}${hh}${sep}${mm}${withSeconds ? `${sep}00` : ''}`;
}

function fraction(f: Fields, digits: number, trim: boolean, sep: string): string {
  let s = (pad(f.ms, 3) + '000000').slice(0, digits);
  if (trim) {
    s = s.replace(/0+$/, '');
    return s === '' ? '' : sep + s;
  }
  return sep + s;
}

/** Formats `date` per the Go `layout` (a Go reference layout or one of NAMED_LAYOUTS' names). */
export function formatGoTime(date: Date, layout: string, zone: TimeZoneChoice = 'local'): string {
  const f = fieldsOf(date, zone);
  const text = NAMED_LAYOUTS[layout] ?? layout;
  let out = '';
  let i = 0;
  const at = (s: string): boolean => text.startsWith(s, i);
  const emit = (s: string, len: number): void => {
    out += s;
    i += len;
  };
  const hour12 = f.hour % 12 === 0 ? 12 : f.hour % 12;
  while (i < text.length) {
    const ch = text[i] as string;
    if (at('January')) emit(MONTHS[f.month] as string, 7);
    else if (at('Jan')) emit((MONTHS[f.month] as string).slice(0, 3), 3);
    else if (at('Monday')) emit(DAYS[f.weekday] as string, 6);
    else if (at('Mon')) emit((DAYS[f.weekday] as string).slice(0, 3), 3);
    else if (at('MST')) emit(f.zoneName, 3);
    else if (at('2006')) emit(pad(f.year, 4), 4);
    else if (at('002')) emit(pad(f.yday, 3), 3);
    else if (at('01')) emit(pad(f.month + 1, 2), 2);
    else if (at('02')) emit(pad(f.day, 2), 2);
    else if (at('03')) emit(pad(hour12, 2), 2);
    else if (at('04')) emit(pad(f.minute, 2), 2);
    else if (at('05')) emit(pad(f.second, 2), 2);
    else if (at('06')) emit(pad(f.year % 100, 2), 2);
    else if (at('15')) emit(pad(f.hour, 2), 2);
    else if (at('__2')) emit(pad(f.yday, 3, ' '), 3);
    else if (at('_2') && !at('_2006')) emit(pad(f.day, 2, ' '), 2);
    else if (at('Z07:00:00')) emit(offset(f, true, true, true, false), 9);
    else if (at('Z070000')) emit(offset(f, true, false, true, false), 7);
    else if (at('Z07:00')) emit(offset(f, true, true, false, false), 6);
    else if (at('Z0700')) emit(offset(f, true, false, false, false), 5);
    else if (at('Z07')) emit(offset(f, true, false, false, true), 3);
    else if (at('-07:00:00')) emit(offset(f, false, true, true, false), 9);
    else if (at('-070000')) emit(offset(f, false, false, true, false), 7);
    else if (at('-07:00')) emit(offset(f, false, true, false, false), 6);
    else if (at('-0700')) emit(offset(f, false, false, false, false), 5);
    else if (at('-07')) emit(offset(f, false, false, false, true), 3);
    else if (at('PM')) emit(f.hour >= 12 ? 'PM' : 'AM', 2);
    else if (at('pm')) emit(f.hour >= 12 ? 'pm' : 'am', 2);
    else if ((ch === '.' || ch === ',') && (text[i + 1] === '0' || text[i + 1] === '9')) {
      const digit = text[i + 1] as string;
      let j = i + 1;
      while (text[j] === digit) j++;
      if (j < text.length && /[0-9]/.test(text[j] as string)) emit(ch, 1);
      else emit(fraction(f, j - i - 1, digit === '9', ch), j - i);
    } else if (ch === '1') emit(String(f.month + 1), 1);
    else if (ch === '2') emit(String(f.day), 1);
    else if (ch === '3') emit(String(hour12), 1);
    else if (ch === '4') emit(String(f.minute), 1);
    else if (ch === '5') emit(String(f.second), 1);
    else emit(ch, 1);
  }
  return out;
}
