'use strict';
// Shared by the tests: a decider on 127.0.0.1:<free port> and a real grpc-js client built
// from the same proto, as the proxy would call it.
const grpc = require('@grpc/grpc-js');
const flocker = require('..');

async function start(setup, options) {
  const dockers = flocker(options);
  setup(dockers);
  const port = await new Promise((resolve, reject) => {
    dockers.listen('127.0.0.1:0', (err, p) => (err ? reject(err) : resolve(p)));
  });
  const proto = flocker.loadProto();
  const address = `127.0.0.1:${port}`;
  const decider = new proto.flocker.v1.Decider(address, grpc.credentials.createInsecure());
  const health = new proto.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  const call = (method, request = {}) => new Promise((resolve, reject) => {
    decider[method](request, { deadline: Date.now() + 5000 }, (err, resp) => (err ? reject(err) : resolve(resp)));
  });
  const close = () => new Promise((resolve) => {
    decider.close();
    health.close();
    dockers.close(() => resolve());
  });
  return { dockers, port, decider, health, call, close };
}

// Asserts that promise rejects with a gRPC status code (and message, when given).
async function rejectsWith(assert, promise, code, message) {
  await assert.rejects(promise, (err) => {
    assert.strictEqual(err.code, code, `code ${err.code} (${err.details}), want ${code}`);
    if (message !== undefined) {
      if (message instanceof RegExp) assert.match(err.details, message);
      else assert.strictEqual(err.details, message);
    }
    return true;
  });
}

module.exports = { start, rejectsWith, status: grpc.status };
