'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const { start, status } = require('./support');
const fs = require('fs');
const os = require('os');
const path = require('path');
const flocker = require('..');

function check(health, service) {
  return new Promise((resolve, reject) => {
    health.Check({ service }, { deadline: Date.now() + 5000 }, (err, resp) => (err ? reject(err) : resolve(resp.status)));
  });
}

test('Check: SERVING for "" and flocker.v1.Decider, NOT_FOUND for others', async () => {
  const d = await start(() => {});
  try {
    assert.strictEqual(await check(d.health, ''), 'SERVING');
    assert.strictEqual(await check(d.health, 'flocker.v1.Decider'), 'SERVING');
    await assert.rejects(check(d.health, 'other.Service'), (err) => err.code === status.NOT_FOUND);
  } finally { await d.close(); }
});

test('Watch: SERVING, then NOT_SERVING when close() begins, then the stream ends', async () => {
  const d = await start(() => {});
  const seen = [];
  const call = d.health.Watch({ service: 'flocker.v1.Decider' });
  const ended = new Promise((resolve) => {
    call.on('data', (m) => seen.push(m.status));
    call.on('error', () => resolve('error'));
    call.on('end', () => resolve('end'));
  });
  const unknown = d.health.Watch({ service: 'other.Service' });
  const unknownFirst = new Promise((resolve) => unknown.once('data', (m) => resolve(m.status)));
  unknown.on('error', () => {});
  while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.deepStrictEqual(seen, ['SERVING']);
  assert.strictEqual(await unknownFirst, 'SERVICE_UNKNOWN');
  const closed = new Promise((resolve) => d.dockers.close(resolve));
  assert.strictEqual(await ended, 'end');
  assert.deepStrictEqual(seen, ['SERVING', 'NOT_SERVING']);
  await closed;
  d.decider.close();
  d.health.close();
});

test('close() drains: a call in flight finishes', async () => {
  let release;
  const d = await start((f) => f.on('list', (next) => { release = () => next(null, 'h:1'); }));
  const pending = d.call('List');
  while (!release) await new Promise((r) => setTimeout(r, 5));
  const closed = new Promise((resolve) => d.dockers.close(resolve));
  setTimeout(() => release(), 20);
  const resp = await pending;
  assert.strictEqual(resp.hosts[0].name, 'h:1');
  await closed;
  d.decider.close();
  d.health.close();
});

test('listen on a bad address calls back with an error', async () => {
  const dockers = flocker();
  const err = await new Promise((resolve) => dockers.listen('256.0.0.1:99999', (e) => resolve(e)));
  assert.match(err.message, /cannot listen on 256\.0\.0\.1:99999/);
});

test('FLOCKER_PROTO_DIR points at another proto/ directory', async () => {
  const saved = process.env.FLOCKER_PROTO_DIR;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flocker-proto-'));
  fs.symlinkSync(path.join(__dirname, '..', '..', '..', 'proto', 'flocker'), path.join(dir, 'flocker'));
  process.env.FLOCKER_PROTO_DIR = dir;
  try {
    const dockers = flocker();
    assert.ok(dockers.proto.flocker.v1.Decider.service.Route);
    assert.strictEqual(dockers.proto, flocker.loadProto({ protoDir: dir }));
    assert.notStrictEqual(dockers.proto, flocker.loadProto({ protoDir: path.join(__dirname, '..', '..', '..', 'proto') }));
  } finally {
    if (saved === undefined) delete process.env.FLOCKER_PROTO_DIR; else process.env.FLOCKER_PROTO_DIR = saved;
    fs.rmSync(dir, { recursive: true });
  }
  assert.throws(() => flocker({ protoDir: '/nonexistent' }), /no flocker\/v1\/decider\.proto under \/nonexistent/);
});

test('a second decider on a taken port fails with a message', async () => {
  const d = await start(() => {});
  try {
    const second = flocker();
    const err = await new Promise((resolve) => second.listen(`127.0.0.1:${d.port}`, (e) => resolve(e)));
    assert.ok(err, 'the second listen must fail');
    assert.match(err.message, new RegExp(`cannot listen on 127.0.0.1:${d.port}`));
  } finally { await d.close(); }
});
