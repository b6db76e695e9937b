/* The server's clock: phones often have a wrong one, so ticket waits are measured against the
 * server's Date header. */

let skewMs = 0; // server clock minus this phone's clock

/** Now, in epoch ms by the server's clock. */
export function now() {
  return Date.now() + skewMs;
}

/** Note the server's clock from a response's Date header (api.js calls it on every response). */
export function noteServerClock(res) {
  const header = res.headers && res.headers.get("Date");
  const server = header ? Date.parse(header) : NaN;
  if (!Number.isFinite(server)) return;
  const skew = server - Date.now();
  skewMs = Math.abs(skew) > 30000 ? skew : 0;
}
