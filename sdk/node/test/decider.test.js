'use strict';
const { test, describe } = require('node:test');
const assert = require('node:assert');
const { start, rejectsWith, status } = require('./support');
const flocker = require('..');

const candidates = [
  {
    name: 'e1', address: 'tcp://127.0.0.1:2375', labels: { zone: 'a' }, healthy: true,
    containersRunning: 3, containersTotal: 5, ncpu: 8, memTotalBytes: 2 ** 40,
    image: 'IMAGE_PRESENCE_PRESENT', engineVersion: '20.10.24+dfsg1',
  },
  { name: 'e2', address: '127.0.0.1:2376', labels: { zone: 'b' }, healthy: false, image: 'IMAGE_PRESENCE_ABSENT' },
  { name: 'e3', address: 'unix:///run/e3.sock', healthy: true },
];

const createBody = { Image: 'busybox', Env: ['A=1'], Labels: { zone: 'a' }, HostConfig: { Memory: 1 << 30 } };

function routeRequest(extra = {}) {
  return {
    requestId: 'req-1',
    kind: 'OPERATION_KIND_CONTAINER_CREATE',
    image: 'busybox',
    name: 'web',
    body: Buffer.from(JSON.stringify(createBody)),
    client: { remoteAddress: '127.0.0.1:40000', userAgent: 'Docker-Client/28.2.2 (linux)' },
    candidates,
    query: 'name=web',
    ...extra,
  };
}

function remapRequest(extra = {}) {
  return {
    requestId: 'req-1',
    host: 'e1',
    name: 'web',
    body: Buffer.from(JSON.stringify(createBody)),
    image: Buffer.from(JSON.stringify({ Id: 'sha256:abc', Config: { Env: ['PATH=/bin'] } })),
    ...extra,
  };
}

describe('list', () => {
  test('comma-separated string of addresses (the 2014 form)', async () => {
    const d = await start((f) => f.on('list', (next) => next(null, '127.0.0.1:2375, tcp://h2:2376/,unix:///run/d.sock')));
    try {
      const resp = await d.call('List', { proxyName: 'p' });
      assert.deepStrictEqual(resp.hosts.map((h) => [h.name, h.address]), [
        ['127.0.0.1:2375', '127.0.0.1:2375'],
        ['h2:2376', 'tcp://h2:2376/'],
        ['/run/d.sock', 'unix:///run/d.sock'],
      ]);
      assert.strictEqual(resp.refreshIntervalSeconds, 0);
    } finally { await d.close(); }
  });

  test('array of address strings', async () => {
    const d = await start((f) => f.on('list', (next) => next(null, ['tcp://127.0.0.1:2376', '[::1]:2377'])));
    try {
      const resp = await d.call('List');
      assert.deepStrictEqual(resp.hosts.map((h) => h.name), ['127.0.0.1:2376', '[::1]:2377']);
    } finally { await d.close(); }
  });

  test('array of host objects with labels and tls; async listener; refresh interval', async () => {
    const d = await start((f) => f.on('list', async () => ({
      hosts: [
        { name: 'a', address: 'tcp://10.0.0.1:2376', labels: { zone: 'x', gpu: 1 }, tls: { caFile: '/ca.pem', serverName: 'a.example' } },
        { address: '10.0.0.2:2375' },
      ],
      refreshIntervalSeconds: 7,
    })));
    try {
      const resp = await d.call('List');
      assert.strictEqual(resp.refreshIntervalSeconds, 7);
      const [a, b] = resp.hosts;
      assert.strictEqual(a.name, 'a');
      assert.deepStrictEqual(a.labels, { zone: 'x', gpu: '1' });
      assert.strictEqual(a.tls.caFile, '/ca.pem');
      assert.strictEqual(a.tls.serverName, 'a.example');
      assert.strictEqual(b.name, '10.0.0.2:2375');
      assert.strictEqual(b.tls, null);
    } finally { await d.close(); }
  });

  test('error passed to next reaches the client with its message', async () => {
    const d = await start((f) => f.on('list', (next) => next(new Error('inventory database is down'))));
    try {
      await rejectsWith(assert, d.call('List'), status.FAILED_PRECONDITION, 'inventory database is down');
    } finally { await d.close(); }
  });

  test('a malformed answer is INTERNAL', async () => {
    const d = await start((f) => f.on('list', (next) => next(null, [{ name: 'no-address' }])));
    try {
      await rejectsWith(assert, d.call('List'), status.INTERNAL, /^List failed in the decider: list: a host must be/);
    } finally { await d.close(); }
  });
});

describe('route', () => {
  test('info carries the 2014 fields and the new ones', async () => {
    let seen;
    const d = await start((f) => f.on('route', (info, next) => { seen = info; next(null, 'e1'); }));
    try {
      const resp = await d.call('Route', routeRequest({ pinnedHost: 'e3' }));
      assert.deepStrictEqual(resp.hosts, ['e1']);
      assert.strictEqual(seen.name, 'web');
      assert.strictEqual(seen.image, 'busybox');
      assert.deepStrictEqual(seen.container, createBody);
      assert.strictEqual(seen.kind, 'container-create');
      assert.strictEqual(seen.pinnedHost, 'e3');
      assert.strictEqual(seen.requestId, 'req-1');
      assert.strictEqual(seen.query, 'name=web');
      assert.ok(Buffer.isBuffer(seen.body));
      assert.deepStrictEqual(JSON.parse(seen.body), createBody);
      assert.deepStrictEqual(seen.client, { remoteAddress: '127.0.0.1:40000', tlsSubject: '', userAgent: 'Docker-Client/28.2.2 (linux)' });
      assert.deepStrictEqual(seen.candidates[0], {
        name: 'e1', address: 'tcp://127.0.0.1:2375', labels: { zone: 'a' }, healthy: true,
        containersRunning: 3, containersTotal: 5, ncpu: 8, memTotalBytes: 2 ** 40,
        image: 'present', engineVersion: '20.10.24+dfsg1',
        facts: {}, publishedPorts: [], reservedNanoCpus: 0, reservedMemoryBytes: 0,
      });
      assert.strictEqual(seen.candidates[1].image, 'absent');
      assert.strictEqual(seen.candidates[1].healthy, false);
      assert.strictEqual(seen.candidates[2].image, 'unknown');
    } finally { await d.close(); }
  });

  test('requirements and scope reach the route listener', async () => {
    const seen = [];
    const d = await start((f) => f.on('route', (info, next) => { seen.push(info); next(null, 'e1'); }));
    try {
      await d.call('Route', routeRequest({
        requirements: [{ kind: 'REQUIREMENT_KIND_VOLUME', object: 'data', objectId: 'data',
          referredBy: 'HostConfig.Binds', hosts: ['e1'] },
        { kind: 'REQUIREMENT_KIND_NETWORK', object: 'appnet', objectId: 'x', referredBy: 'HostConfig.NetworkMode',
          hosts: ['e1', 'e2'], spansHosts: true }],
      }));
      await d.call('Route', { kind: 'OPERATION_KIND_VOLUME_CREATE', name: 'v', scope: 'OBJECT_SCOPE_LOCAL', candidates });
      await d.call('Route', { kind: 'OPERATION_KIND_NETWORK_CREATE', name: 'n', scope: 'OBJECT_SCOPE_SHARED', candidates });
      assert.deepStrictEqual(seen[0].requirements, [
        { kind: 'volume', object: 'data', objectId: 'data', referredBy: 'HostConfig.Binds', hosts: ['e1'], follows: false,
          spansHosts: false },
        { kind: 'network', object: 'appnet', objectId: 'x', referredBy: 'HostConfig.NetworkMode', hosts: ['e1', 'e2'],
          follows: false, spansHosts: true },
      ]);
      assert.strictEqual(seen[0].scope, '');
      assert.deepStrictEqual(seen[1].requirements, []);
      assert.strictEqual(seen[1].scope, 'local');
      assert.strictEqual(seen[2].scope, 'shared');
    } finally { await d.close(); }
  });

  test('swarm rules, ports and the candidates\' facts reach the route listener', async () => {
    let seen;
    const d = await start((f) => f.on('route', (info, next) => { seen = info; next(null, 'e1'); }));
    try {
      const withFacts = candidates.map((c, i) => (i ? c : {
        ...c, facts: { node: 'e1', storagedriver: 'overlay2' },
        publishedPorts: [{ hostIp: '', hostPort: 8080, protocol: 'tcp' }],
        reservedNanoCpus: 500000000, reservedMemoryBytes: 1024,
      }));
      await d.call('Route', routeRequest({
        candidates: withFacts,
        constraints: [{ expression: 'zone==~/^a/', key: 'zone', op: 'MATCH_OPERATOR_EQUAL', value: '^a',
          kind: 'VALUE_KIND_REGEX', soft: true, source: 'Env' }],
        affinities: [{ expression: 'container!=db', key: 'container', op: 'MATCH_OPERATOR_NOT_EQUAL', value: 'db',
          kind: 'VALUE_KIND_PLAIN', source: 'Labels', hosts: ['e2'] }],
        ports: [{ hostIp: '198.18.0.1', hostPort: 53, protocol: 'udp' }],
      }));
      assert.deepStrictEqual(seen.constraints, [{ expression: 'zone==~/^a/', key: 'zone', op: '==', value: '^a',
        kind: 'regex', soft: true, source: 'Env' }]);
      assert.deepStrictEqual(seen.affinities, [{ expression: 'container!=db', key: 'container', op: '!=', value: 'db',
        kind: 'plain', soft: false, source: 'Labels', hosts: ['e2'] }]);
      assert.deepStrictEqual(seen.ports, [{ hostIp: '198.18.0.1', hostPort: 53, protocol: 'udp' }]);
      assert.deepStrictEqual(seen.candidates[0].facts, { node: 'e1', storagedriver: 'overlay2' });
      assert.deepStrictEqual(seen.candidates[0].publishedPorts, [{ hostIp: '', hostPort: 8080, protocol: 'tcp' }]);
      assert.strictEqual(seen.candidates[0].reservedNanoCpus, 500000000);
      assert.strictEqual(seen.candidates[0].reservedMemoryBytes, 1024);
    } finally { await d.close(); }
  });

  test('every operation kind maps to its name; no container for non-creates', async () => {
    const kinds = [];
    const d = await start((f) => f.on('route', (info, next) => { kinds.push([info.kind, info.container]); next(null, 'e1'); }));
    try {
      for (const k of ['IMAGE_PULL', 'IMAGE_LOAD', 'IMAGE_IMPORT', 'IMAGE_BUILD', 'VOLUME_CREATE', 'NETWORK_CREATE']) {
        await d.call('Route', { kind: `OPERATION_KIND_${k}`, image: 'busybox', candidates });
      }
      assert.deepStrictEqual(kinds, [
        ['image-pull', undefined], ['image-load', undefined], ['image-import', undefined],
        ['image-build', undefined], ['volume-create', undefined], ['network-create', undefined],
      ]);
    } finally { await d.close(); }
  });

  test('next with an address maps to the candidate name (2014 form)', async () => {
    const answers = ['127.0.0.1:2375', 'tcp://127.0.0.1:2376', 'unix:///run/e3.sock', 'e3'];
    const d = await start((f) => f.on('route', (info, next) => next(null, answers.shift())));
    try {
      for (const want of ['e1', 'e2', 'e3', 'e3']) {
        assert.deepStrictEqual((await d.call('Route', routeRequest())).hosts, [want]);
      }
    } finally { await d.close(); }
  });

  test('next with an array fans out; an unknown name passes through for the proxy to refuse', async () => {
    const d = await start((f) => f.on('route', (info, next) => next(null, ['e1', '127.0.0.1:2376', 'nope'])));
    try {
      const resp = await d.call('Route', { kind: 'OPERATION_KIND_IMAGE_PULL', candidates });
      assert.deepStrictEqual(resp.hosts, ['e1', 'e2', 'nope']);
    } finally { await d.close(); }
  });

  test('async listener returning a name', async () => {
    const d = await start((f) => f.on('route', async (info) => info.candidates.filter((c) => c.healthy).map((c) => c.name)));
    try {
      assert.deepStrictEqual((await d.call('Route', routeRequest())).hosts, ['e1', 'e3']);
    } finally { await d.close(); }
  });

  test('async listener that takes next and calls it later', async () => {
    const d = await start((f) => f.on('route', async (info, next) => { setTimeout(() => next(null, 'e3'), 10); }));
    try {
      assert.deepStrictEqual((await d.call('Route', routeRequest())).hosts, ['e3']);
    } finally { await d.close(); }
  });

  test('errors: next(err), err.code, rejection, throw, no host', async () => {
    const script = [
      (info, next) => next(new Error('no healthy host in zone a')),
      (info, next) => next(Object.assign(new Error('flock is full'), { code: flocker.status.RESOURCE_EXHAUSTED })),
      (info, next) => next(Object.assign(new Error('file gone'), { code: 'ENOENT' })),
      async () => { throw new Error('async refusal'); },
      () => { throw new TypeError('bug in the decider'); },
      (info, next) => next(null, ''),
      (info, next) => next('a string error'),
    ];
    const d = await start((f) => f.on('route', (info, next) => script.shift()(info, next)));
    try {
      await rejectsWith(assert, d.call('Route', routeRequest()), status.FAILED_PRECONDITION, 'no healthy host in zone a');
      await rejectsWith(assert, d.call('Route', routeRequest()), status.RESOURCE_EXHAUSTED, 'flock is full');
      await rejectsWith(assert, d.call('Route', routeRequest()), status.FAILED_PRECONDITION, 'file gone');
      await rejectsWith(assert, d.call('Route', routeRequest()), status.FAILED_PRECONDITION, 'async refusal');
      await rejectsWith(assert, d.call('Route', routeRequest()), status.INTERNAL, 'Route failed in the decider: bug in the decider');
      await rejectsWith(assert, d.call('Route', routeRequest()), status.FAILED_PRECONDITION, 'route: the decider chose no host');
      await rejectsWith(assert, d.call('Route', routeRequest()), status.FAILED_PRECONDITION, 'a string error');
    } finally { await d.close(); }
  });

  test('only the first answer counts', async () => {
    const d = await start((f) => f.on('route', (info, next) => { next(null, 'e1'); next(null, 'e3'); next(new Error('late')); }));
    try {
      assert.deepStrictEqual((await d.call('Route', routeRequest())).hosts, ['e1']);
      assert.deepStrictEqual((await d.call('Route', routeRequest())).hosts, ['e1']);
    } finally { await d.close(); }
  });

  test("the 2014 README's 'allocate' is another name for 'route'", async () => {
    const d = await start((f) => f.on('allocate', (info, next) => next(null, 'e3')));
    try {
      assert.deepStrictEqual((await d.call('Route', routeRequest())).hosts, ['e3']);
    } finally { await d.close(); }
  });
});

describe('container (RemapContainer)', () => {
  test("a 'container' listener rewrites the create body; image is read-only", async () => {
    let seenImage;
    let frozen;
    const d = await start((f) => f.on('container', (container, image, done) => {
      seenImage = image;
      frozen = Object.isFrozen(image) && Object.isFrozen(image.Config.Env);
      assert.throws(() => { 'use strict'; image.Config.Env.push('X=1'); });
      container.Env.push('FLOCKER_ZONE=a');
      done();
    }));
    try {
      const resp = await d.call('RemapContainer', remapRequest());
      assert.deepStrictEqual(JSON.parse(resp.body), { ...createBody, Env: ['A=1', 'FLOCKER_ZONE=a'] });
      assert.strictEqual(resp._name, undefined, 'no rename');
      assert.strictEqual(seenImage.Id, 'sha256:abc');
      assert.ok(frozen);
    } finally { await d.close(); }
  });

  test('image is null when the host lacks it; an unchanged container sends no body', async () => {
    let seenImage = 'unset';
    const d = await start((f) => f.on('container', (container, image, done) => { seenImage = image; done(); }));
    try {
      const resp = await d.call('RemapContainer', remapRequest({ image: Buffer.alloc(0) }));
      assert.strictEqual(seenImage, null);
      assert.strictEqual(resp.body.length, 0);
    } finally { await d.close(); }
  });

  test("the listener sees what 'route' did to info.container (same request id)", async () => {
    const d = await start((f) => {
      f.on('route', (info, next) => { info.container.Env.push('ROUTED=e1'); next(null, 'e1'); });
      f.on('container', async (container) => { container.Labels.remapped = 'yes'; });
    });
    try {
      await d.call('Route', routeRequest({ requestId: 'req-7' }));
      const resp = await d.call('RemapContainer', remapRequest({ requestId: 'req-7' }));
      const body = JSON.parse(resp.body);
      assert.deepStrictEqual(body.Env, ['A=1', 'ROUTED=e1']);
      assert.deepStrictEqual(body.Labels, { zone: 'a', remapped: 'yes' });
      // Used once: a second RemapContainer with that id starts from the proxy's body.
      const again = JSON.parse((await d.call('RemapContainer', remapRequest({ requestId: 'req-7' }))).body);
      assert.deepStrictEqual(again.Env, ['A=1']);
    } finally { await d.close(); }
  });

  test("without a 'container' listener, changes made in 'route' are sent back", async () => {
    const d = await start((f) => f.on('route', (info, next) => {
      info.container.Env.push('ROUTED=e1');
      info.container.HostConfig.Memory = 1 << 20;
      next(null, 'e1');
    }));
    try {
      await d.call('Route', routeRequest({ requestId: 'req-8' }));
      const resp = await d.call('RemapContainer', remapRequest({ requestId: 'req-8' }));
      assert.deepStrictEqual(JSON.parse(resp.body), { ...createBody, Env: ['A=1', 'ROUTED=e1'], HostConfig: { Memory: 1 << 20 } });
      // Another request id: nothing kept, no listener: no opinion.
      await rejectsWith(assert, d.call('RemapContainer', remapRequest({ requestId: 'other' })), status.UNIMPLEMENTED);
    } finally { await d.close(); }
  });

  test("'route' that changes nothing: RemapContainer has no opinion", async () => {
    const d = await start((f) => f.on('route', (info, next) => next(null, 'e1')));
    try {
      await d.call('Route', routeRequest({ requestId: 'req-9' }));
      await rejectsWith(assert, d.call('RemapContainer', remapRequest({ requestId: 'req-9' })), status.UNIMPLEMENTED);
    } finally { await d.close(); }
  });

  test('renames: container.name in route (2014 example), info.name, container.name in the listener', async () => {
    const d = await start((f) => {
      f.on('route', (info, next) => {
        if (info.requestId === 'r-a') info.container.name = 'from-route';
        if (info.requestId === 'r-b') info.name = 'renamed-info';
        next(null, 'e1');
      });
    });
    try {
      await d.call('Route', routeRequest({ requestId: 'r-a' }));
      let resp = await d.call('RemapContainer', remapRequest({ requestId: 'r-a' }));
      assert.strictEqual(resp.name, 'from-route');
      assert.strictEqual(resp.body.length, 0, 'name is not a create-body field: the body is unchanged');

      await d.call('Route', routeRequest({ requestId: 'r-b' }));
      resp = await d.call('RemapContainer', remapRequest({ requestId: 'r-b' }));
      assert.strictEqual(resp.name, 'renamed-info');
      assert.strictEqual(resp.body.length, 0, 'body unchanged');
    } finally { await d.close(); }

    const d2 = await start((f) => f.on('container', (container, image, done) => { container.name = ''; done(); }));
    try {
      const resp = await d2.call('RemapContainer', remapRequest());
      assert.strictEqual(resp._name, 'name');
      assert.strictEqual(resp.name, '', 'empty: docker generates a name');
      assert.strictEqual(resp.body.length, 0);
    } finally { await d2.close(); }
  });

  test('done(err) is a decision error; kept containers expire', async () => {
    const d = await start((f) => {
      f.on('route', (info, next) => { info.container.Env = []; next(null, 'e1'); });
      f.on('container', (container, image, done) => done(new Error('image not allowed on e1')));
    }, { keepMs: 50 });
    try {
      await rejectsWith(assert, d.call('RemapContainer', remapRequest()), status.FAILED_PRECONDITION, 'image not allowed on e1');
    } finally { await d.close(); }

    const d2 = await start((f) => f.on('route', (info, next) => { info.container.Env = []; next(null, 'e1'); }), { keepMs: 50 });
    try {
      await d2.call('Route', routeRequest({ requestId: 'slow' }));
      await new Promise((r) => setTimeout(r, 80));
      await rejectsWith(assert, d2.call('RemapContainer', remapRequest({ requestId: 'slow' })), status.UNIMPLEMENTED);
    } finally { await d2.close(); }
  });

  test('the kept map is bounded', async () => {
    const d = await start((f) => f.on('route', (info, next) => { info.container.Env = []; next(null, 'e1'); }), { keepMax: 3 });
    try {
      for (let i = 0; i < 6; i++) await d.call('Route', routeRequest({ requestId: `b${i}` }));
      assert.ok(d.dockers.kept.map.size <= 3);
      await rejectsWith(assert, d.call('RemapContainer', remapRequest({ requestId: 'b0' })), status.UNIMPLEMENTED);
      assert.deepStrictEqual(JSON.parse((await d.call('RemapContainer', remapRequest({ requestId: 'b5' }))).body).Env, []);
    } finally { await d.close(); }
  });
});

describe('registry-auth', () => {
  test('registry object in, credentials out', async () => {
    let seen;
    const d = await start((f) => f.on('registry-auth', (registry, next) => {
      seen = registry;
      if (registry.registry === 'docker.io') return next(null, null);
      next(null, { username: 'u', password: 'p', serverAddress: registry.registry });
    }));
    try {
      const req = { requestId: 'r1', registry: '127.0.0.1:5000', image: '127.0.0.1:5000/app:1', host: 'e1', client: { remoteAddress: 'unix' } };
      const resp = await d.call('RegistryAuth', req);
      assert.deepStrictEqual(resp, { username: 'u', password: 'p', identityToken: '', registryToken: '', serverAddress: '127.0.0.1:5000' });
      assert.deepStrictEqual(seen, {
        registry: '127.0.0.1:5000', image: '127.0.0.1:5000/app:1', host: 'e1', requestId: 'r1',
        client: { remoteAddress: 'unix', tlsSubject: '', userAgent: '' },
      });
      const none = await d.call('RegistryAuth', { registry: 'docker.io', image: 'busybox' });
      assert.deepStrictEqual(none, { username: '', password: '', identityToken: '', registryToken: '', serverAddress: '' });
    } finally { await d.close(); }
  });

  test('error message propagates', async () => {
    const d = await start((f) => f.on('registry-auth', (registry, next) => next(new Error(`no credentials for ${registry.registry}`))));
    try {
      await rejectsWith(assert, d.call('RegistryAuth', { registry: 'r.example' }), status.FAILED_PRECONDITION, 'no credentials for r.example');
    } finally { await d.close(); }
  });
});

describe('no listener', () => {
  test('every RPC answers UNIMPLEMENTED (no opinion)', async () => {
    const d = await start(() => {});
    try {
      for (const [rpc, req] of [['List', {}], ['Route', routeRequest()], ['RemapContainer', remapRequest()], ['RegistryAuth', {}]]) {
        await rejectsWith(assert, d.call(rpc, req), status.UNIMPLEMENTED, 'no opinion: the decider does not implement this');
      }
    } finally { await d.close(); }
  });

  test('an error with code UNIMPLEMENTED is "no opinion" too', async () => {
    const d = await start((f) => f.on('registry-auth', (r, next) => next(Object.assign(new Error('not mine'), { code: flocker.status.UNIMPLEMENTED }))));
    try {
      await rejectsWith(assert, d.call('RegistryAuth', {}), status.UNIMPLEMENTED, 'not mine');
    } finally { await d.close(); }
  });
});

describe('defaultName', () => {
  test('same rule as the C++ SDK', () => {
    assert.strictEqual(flocker.defaultName('tcp://127.0.0.1:2376'), '127.0.0.1:2376');
    assert.strictEqual(flocker.defaultName('127.0.0.1:2376'), '127.0.0.1:2376');
    assert.strictEqual(flocker.defaultName('tcp://h:1/'), 'h:1');
    assert.strictEqual(flocker.defaultName('unix:///var/run/docker.sock'), '/var/run/docker.sock');
  });
});

describe('authorize', () => {
  test('true allows, a string denies with it, no listener is no opinion', async () => {
    let seen;
    const d = await start((f) => f.on('authorize', (req, next) => {
      seen = req;
      if (req.endpointClass === 'exec') return next(null, `no exec for ${req.client.tlsSubject}`);
      next(null, req.method !== 'DELETE');
    }));
    try {
      const exec = await d.call('Authorize', {
        requestId: 'a1', method: 'POST', path: '/containers/c/exec', apiVersion: '1.41',
        endpointClass: 'ENDPOINT_CLASS_EXEC', body: Buffer.from('{"Cmd":["sh"]}'), bodyInspected: true,
        stage: 'AUTHORIZE_STAGE_REQUEST', client: { tlsSubject: 'CN=bob' },
      });
      assert.deepStrictEqual(exec, { allow: false, message: 'no exec for CN=bob' });
      assert.strictEqual(seen.body.toString(), '{"Cmd":["sh"]}');
      assert.strictEqual(seen.stage, 'request');
      assert.deepStrictEqual(await d.call('Authorize', { method: 'GET', path: '/containers/json' }), { allow: true, message: '' });
      assert.deepStrictEqual(await d.call('Authorize', { method: 'DELETE', path: '/containers/c' }), { allow: false, message: '' });
    } finally { await d.close(); }
    const none = await start(() => {});
    try {
      await rejectsWith(assert, none.call('Authorize', { method: 'GET' }), status.UNIMPLEMENTED);
    } finally { await none.close(); }
  });
});

describe('tls', () => {
  test('options.tls with a ca: mutual TLS', async () => {
    const { execFileSync } = require('child_process');
    const fs = require('fs');
    const os = require('os');
    const path = require('path');
    const grpc = require('@grpc/grpc-js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flocker-node-tls-'));
    const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const key = (name) => run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
    key('ca-key.pem');
    run('req', '-x509', '-new', '-key', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test-ca');
    for (const [name, usage] of [['server', 'serverAuth'], ['client', 'clientAuth']]) {
      key(`${name}-key.pem`);
      run('req', '-new', '-key', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=IP:127.0.0.1\nextendedKeyUsage=${usage}\n`);
      run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
        '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
    }
    const files = {};
    for (const n of ['ca.pem', 'server.pem', 'server-key.pem', 'client.pem', 'client-key.pem']) {
      files[n] = fs.readFileSync(path.join(dir, n));
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const pem = (n) => files[n];
    const dockers = flocker({ tls: { cert: pem('server.pem'), key: pem('server-key.pem'), ca: pem('ca.pem') } });
    dockers.on('authorize', (req, next) => next(null, true));
    const port = await new Promise((resolve, reject) => {
      dockers.listen('127.0.0.1:0', (err, p) => (err ? reject(err) : resolve(p)));
    });
    const proto = flocker.loadProto();
    const ask = (creds) => new Promise((resolve, reject) => {
      const client = new proto.flocker.v1.Decider(`127.0.0.1:${port}`, creds);
      client.Authorize({ method: 'GET' }, { deadline: Date.now() + 5000 }, (err, resp) => {
        client.close();
        if (err) reject(err); else resolve(resp);
      });
    });
    try {
      const ok = await ask(grpc.credentials.createSsl(pem('ca.pem'), pem('client-key.pem'), pem('client.pem')));
      assert.strictEqual(ok.allow, true);
      await rejectsWith(assert, ask(grpc.credentials.createSsl(pem('ca.pem'))), status.UNAVAILABLE);
    } finally {
      await new Promise((resolve) => dockers.close(resolve));
    }
  });
});
