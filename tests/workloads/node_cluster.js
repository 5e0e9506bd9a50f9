// Benign: a Node.js `cluster` HTTP service, started, exercised and shut
// down, as a test suite or a deploy smoke test does.  The primary forks 4
// workers (child_process.fork: fork+exec of node), each listens on the
// same localhost port (shared through the primary); the primary makes 20
// HTTP requests, then disconnects the workers and everything exits 0
// within a few seconds.  Exits 1 if anything fails or takes over 10 s.
// Run it only under build/contain.
//
//   node tests/workloads/node_cluster.js [WORKERS] [REQUESTS]
'use strict';
const cluster = require('cluster');
const http = require('http');

const WORKERS = parseInt(process.argv[2] || '4', 10);
const REQUESTS = parseInt(process.argv[3] || '20', 10);

if (cluster.isPrimary) {
  const deadline = setTimeout(() => {
    console.error('node_cluster: timed out');
    process.exit(1);
  }, 10000);
  let listening = 0;
  let port = 0;
  const served = {};
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('exit', (w, code, signal) => {
    if (code !== 0 && !w.exitedAfterDisconnect) {
      console.error(`node_cluster: worker ${w.process.pid} died (${code || signal})`);
      process.exit(1);
    }
  });
  cluster.on('listening', (w, addr) => {
    port = addr.port;
    if (++listening === WORKERS) run();
  });

  function get(i) {
    return new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: `/work?n=${i}`, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(JSON.parse(body)));
      }).on('error', reject);
    });
  }

  async function run() {
    try {
      for (let i = 0; i < REQUESTS; i++) {
        const r = await get(i);
        served[r.pid] = (served[r.pid] || 0) + 1;
      }
    } catch (e) {
      console.error('node_cluster: request failed:', e.message);
      process.exit(1);
    }
    console.log('node_cluster: requests per worker', JSON.stringify(served));
    cluster.disconnect(() => {
      clearTimeout(deadline);
      process.exitCode = 0;
    });
  }
} else {
  // a worker: a little CPU work per request
  http.createServer((req, res) => {
    let s = 0;
    for (let i = 0; i < 200000; i++) s = (s + i * i) % 1000003;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ pid: process.pid, sum: s }));
  }).listen(0, '127.0.0.1');
}
