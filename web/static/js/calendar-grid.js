// Month grids as plain data: weeks of ISO days ("2026-12-03"), null for the blanks before
// the first and after the last day. Days are calendar dates, not instants: all arithmetic
// is in UTC so no zone or daylight-saving change moves a day.

export const isoDay = (date) => date.toISOString().slice(0, 10);

export function shiftDay(iso, days) {
  const date = new Date(`${iso}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return isoDay(date);
}

// month "2026-12"; firstWeekday 0 = Monday … 6 = Sunday (the locale's, from Babel).
export function calendarWeeks(month, firstWeekday = 0) {
  const [year, number] = month.split("-").map(Number);
  const first = new Date(Date.UTC(year, number - 1, 1, 12));
  const length = new Date(Date.UTC(year, number, 0, 12)).getUTCDate();
  const offset = (first.getUTCDay() + 6 - firstWeekday) % 7; // getUTCDay: 0 = Sunday
  const cells = Array(offset).fill(null);
  for (let day = 1; day <= length; day += 1) cells.push(`${month}-${String(day).padStart(2, "0")}`);
  while (cells.length % 7) cells.push(null);
  const weeks = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}
