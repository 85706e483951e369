'use strict';
// Runs examples/zone-decider.js as a process and calls it as the proxy would.
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const flocker = require('..');
const { rejectsWith, status } = require('./support');

let child;
let client;
let dir;
const call = (method, request) => new Promise((resolve, reject) => {
  client[method](request, { deadline: Date.now() + 5000 }, (err, resp) => (err ? reject(err) : resolve(resp)));
});

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flocker-zone-'));
  const hosts = path.join(dir, 'hosts');
  fs.writeFileSync(hosts, [
    '# the flock',
    'tcp://127.0.0.1:23751  e1  zone=a',
    'tcp://127.0.0.1:23752  e2  zone=b  # trailing comment',
    '',
    '127.0.0.1:23753 zone=b',
  ].join('\n'));
  child = spawn(process.execPath, [path.join(__dirname, '..', 'examples', 'zone-decider.js'), '127.0.0.1:0', hosts], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /\(port (\d+)\)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`zone-decider exited with ${code}`)));
  });
  const proto = flocker.loadProto();
  client = new proto.flocker.v1.Decider(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  assert.strictEqual(await exited, 0);
  fs.rmSync(dir, { recursive: true });
});

const candidates = [
  { name: 'e1', address: 'tcp://127.0.0.1:23751', labels: { zone: 'a' }, healthy: true },
  { name: 'e2', address: 'tcp://127.0.0.1:23752', labels: { zone: 'b' }, healthy: true },
  { name: '127.0.0.1:23753', address: 'tcp://127.0.0.1:23753', labels: { zone: 'b' }, healthy: false },
];
const create = (labels, extra = {}) => ({
  requestId: `r-${Math.random()}`,
  kind: 'OPERATION_KIND_CONTAINER_CREATE',
  body: Buffer.from(JSON.stringify({ Image: 'busybox', Env: ['KEEP=1'], Labels: labels })),
  candidates,
  ...extra,
});

test('zone-decider: List reads the hosts file', async () => {
  const resp = await call('List', {});
  assert.deepStrictEqual(resp.hosts.map((h) => [h.name, h.address, h.labels]), [
    ['e1', 'tcp://127.0.0.1:23751', { zone: 'a' }],
    ['e2', 'tcp://127.0.0.1:23752', { zone: 'b' }],
    ['127.0.0.1:23753', '127.0.0.1:23753', { zone: 'b' }],
  ]);
});

test('zone-decider: a zone label picks the healthy host of that zone and sets FLOCKER_ZONE', async () => {
  const req = create({ zone: 'b' });
  assert.deepStrictEqual((await call('Route', req)).hosts, ['e2']);
  const remap = await call('RemapContainer', { requestId: req.requestId, host: 'e2', body: req.body });
  assert.deepStrictEqual(JSON.parse(remap.body).Env, ['KEEP=1', 'FLOCKER_ZONE=b']);
  await rejectsWith(assert, call('Route', create({ zone: 'c' })), status.FAILED_PRECONDITION, 'no healthy host in zone c');
  // Swarm classic's `-e constraint:zone==b`, as the proxy hands it over, parsed.
  const byConstraint = create({}, { constraints: [{ expression: 'zone==b', key: 'zone', op: 'MATCH_OPERATOR_EQUAL',
    value: 'b', kind: 'VALUE_KIND_PLAIN', source: 'Env' }] });
  assert.deepStrictEqual((await call('Route', byConstraint)).hosts, ['e2']);
});

test('zone-decider: pins, pulls, volumes, round-robin', async () => {
  assert.deepStrictEqual((await call('Route', create({}, { pinnedHost: 'e2' }))).hosts, ['e2']);
  assert.deepStrictEqual((await call('Route', { kind: 'OPERATION_KIND_IMAGE_PULL', candidates })).hosts, ['e1', 'e2']);
  assert.deepStrictEqual((await call('Route', { kind: 'OPERATION_KIND_IMAGE_PULL', pinnedHost: 'e1', candidates })).hosts, ['e1']);
  assert.deepStrictEqual((await call('Route', { kind: 'OPERATION_KIND_VOLUME_CREATE', pinnedHost: 'e1', candidates })).hosts, ['e1', 'e2']);
  assert.deepStrictEqual((await call('Route', { kind: 'OPERATION_KIND_NETWORK_CREATE', candidates })).hosts, ['e1', 'e2']);
  const local = [];  // a local volume lives on one host
  for (let i = 0; i < 2; i++) local.push(...(await call('Route', { kind: 'OPERATION_KIND_VOLUME_CREATE', scope: 'OBJECT_SCOPE_LOCAL', candidates })).hosts);
  assert.deepStrictEqual([...local].sort(), ['e1', 'e2']);
  const builds = [];
  for (let i = 0; i < 4; i++) builds.push(...(await call('Route', { kind: 'OPERATION_KIND_IMAGE_BUILD', candidates })).hosts);
  assert.deepStrictEqual([...builds].sort(), ['e1', 'e1', 'e2', 'e2']);
});
