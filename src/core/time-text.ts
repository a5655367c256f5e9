/**
 * The one way reasons and messages write a moment for people: UTC, to the second, with the date
 * only when it is not today (a delay may run for months).
 */
export function utcTime(at: number, now: number): string {
  const iso = new Date(at).toISOString();
  const day = iso.slice(0, 10);
  const time = `${iso.slice(11, 19)} UTC`;
  return day === new Date(now).toISOString().slice(0, 10) ? time : `${day} ${time}`;
}
