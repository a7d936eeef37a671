// An HTTP server run as a Pacer command task (node inside the agent's sandbox) for the balancer's
// tests and bench: it says which task answered and what headers it got, can be made unhealthy,
// slow or silent, and on SIGTERM stops accepting and finishes what it has in flight, as a
// well-behaved service does.
const SERVER = `
const http = require('http');
let sick = false;
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/health') return reply(sick ? 500 : 200, { sick });
  if (url.pathname === '/sick') { sick = true; return reply(200, { sick }); }
  if (url.pathname === '/hang') return;
  const ms = Number(url.searchParams.get('ms') || 0);
  setTimeout(() => reply(200, {
    task: process.env.MESOS_TASK_ID,
    app: process.env.MARATHON_APP_ID,
    path: req.url,
    headers: req.headers,
  }), ms);
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT0));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** A `cmd` running the server on `$PORT0` with the node of the agent's machine. */
export function backendCommand(): string {
  const encoded = Buffer.from(SERVER).toString('base64');
  return `exec node -e "eval(Buffer.from('${encoded}','base64').toString())"`;
}

/** An app definition serving with `backendCommand`, checked on `/health` every second. */
export function backendApp(
  id: string,
  labels: Record<string, string>,
  more: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    instances: 1,
    cpus: 0.05,
    mem: 64,
    cmd: backendCommand(),
    portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
    labels,
    healthChecks: [
      {
        protocol: 'HTTP',
        path: '/health',
        portIndex: 0,
        gracePeriodSeconds: 30,
        intervalSeconds: 1,
        timeoutSeconds: 1,
        // Never killed for failing: a test watches an unhealthy task leave the rotation.
        maxConsecutiveFailures: 0,
      },
    ],
    ...more,
  };
}
