'use strict';
// flocker: write a flocker decider in node.js with the 2014 flocker API.
//
//   const flocker = require('flocker');
//   const dockers = flocker();
//   dockers.on('list', next => next(null, '127.0.0.1:2375,127.0.0.1:2376'));
//   dockers.on('route', (info, next) => next(null, info.candidates[0].name));
//   dockers.listen('127.0.0.1:7070', err => { ... });
//
// Each event answers one RPC of the gRPC service flocker.v1.Decider
// (proto/flocker/v1/decider.proto): 'list' -> List, 'route' -> Route,
// 'container' -> RemapContainer, 'registry-auth' -> RegistryAuth, 'authorize' -> Authorize
// (asked only by a proxy run with --authorize, which refuses without an answer). An event without a
// listener answers UNIMPLEMENTED, which the proxy reads as "no opinion".
// See README.md for the data each event gets and how errors reach the docker user.

const { EventEmitter } = require('events');
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const SERVICE_NAME = 'flocker.v1.Decider';

// proto-loader options, shared by the server here and by clients (tests): camelCase field
// names, int64 as Number (exact up to 2^53), enums as their names, bytes as Buffer.
const PROTO_OPTIONS = Object.freeze({
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
});

// Where proto/ (holding flocker/v1/decider.proto) is: options.protoDir, else
// $FLOCKER_PROTO_DIR, else the package's own proto/ (npm pack copies it in: "prepack" in
// package.json), else the repository's proto/ (this file is sdk/node/lib/index.js).
function protoDir(options = {}) {
  if (options.protoDir) return options.protoDir;
  if (process.env.FLOCKER_PROTO_DIR) return process.env.FLOCKER_PROTO_DIR;
  const packaged = path.join(__dirname, '..', 'proto');
  if (fs.existsSync(path.join(packaged, 'flocker', 'v1', 'decider.proto'))) return packaged;
  return path.join(__dirname, '..', '..', '..', 'proto');
}

const loaded = new Map();  // protoDir -> grpc package object
// Loads flocker.v1 (and grpc.health.v1) as grpc-js package objects:
// loadProto().flocker.v1.Decider is a service client constructor.
function loadProto(options = {}) {
  const dir = protoDir(options);
  if (!loaded.has(dir)) {
    if (!fs.existsSync(path.join(dir, 'flocker', 'v1', 'decider.proto'))) {
      throw new Error(`flocker: no flocker/v1/decider.proto under ${dir} (set FLOCKER_PROTO_DIR or the protoDir option)`);
    }
    const definition = protoLoader.loadSync(
      ['flocker/v1/decider.proto', path.join(__dirname, 'health.proto')],
      { ...PROTO_OPTIONS, includeDirs: [dir] });
    loaded.set(dir, grpc.loadPackageDefinition(definition));
  }
  return loaded.get(dir);
}

// ---------------------------------------------------------------------------------------
// Conversions between the wire messages and the 2014 API's shapes.

const KINDS = {
  OPERATION_KIND_UNSPECIFIED: 'unspecified',
  OPERATION_KIND_CONTAINER_CREATE: 'container-create',
  OPERATION_KIND_IMAGE_PULL: 'image-pull',
  OPERATION_KIND_IMAGE_LOAD: 'image-load',
  OPERATION_KIND_IMAGE_IMPORT: 'image-import',
  OPERATION_KIND_IMAGE_BUILD: 'image-build',
  OPERATION_KIND_VOLUME_CREATE: 'volume-create',
  OPERATION_KIND_NETWORK_CREATE: 'network-create',
};
// A kind added to the proto later arrives as its number or enum name: keep it recognisable.
function kindName(kind) {
  if (KINDS[kind]) return KINDS[kind];
  return String(kind).replace(/^OPERATION_KIND_/, '').toLowerCase().replace(/_/g, '-');
}

const PRESENCE = {
  IMAGE_PRESENCE_UNSPECIFIED: 'unknown',
  IMAGE_PRESENCE_PRESENT: 'present',
  IMAGE_PRESENCE_ABSENT: 'absent',
};

// RouteRequest.scope of a volume or network: 'local' (one host), 'shared' (every host), ''.
const SCOPES = {
  OBJECT_SCOPE_UNSPECIFIED: '',
  OBJECT_SCOPE_LOCAL: 'local',
  OBJECT_SCOPE_SHARED: 'shared',
};

// Enum names without their prefix, lower case: REQUIREMENT_KIND_VOLUME -> 'volume'.
function shortEnum(value, prefix) {
  return String(value).replace(prefix, '').toLowerCase();
}

// Swarm classic's rules as the proxy parsed them: {expression, key, op ('==' | '!='), value,
// kind ('plain' | 'glob' | 'regex'), soft, source}; affinities also carry the hosts they name.
function toRule(r) {
  const out = {
    expression: r.expression,
    key: r.key,
    op: r.op === 'MATCH_OPERATOR_NOT_EQUAL' ? '!=' : '==',
    value: r.value,
    kind: shortEnum(r.kind, 'VALUE_KIND_') || 'plain',
    soft: Boolean(r.soft),
    source: r.source,
  };
  if (r.hosts) out.hosts = [...r.hosts];
  return out;
}

function toPort(p) {
  return { hostIp: p.hostIp, hostPort: p.hostPort, protocol: p.protocol };
}

function toRequirement(r) {
  return {
    kind: shortEnum(r.kind, 'REQUIREMENT_KIND_'),
    object: r.object,
    objectId: r.objectId,
    referredBy: r.referredBy,
    hosts: [...r.hosts],
    follows: Boolean(r.follows),
    spansHosts: Boolean(r.spansHosts),
  };
}

// "tcp://h:p", "tcp://h:p/", "h:p" -> "h:p"; "unix:///run/d.sock" -> "/run/d.sock".
// The same default name as the C++ reference decider gives a host.
function defaultName(address) {
  const text = String(address).trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme && scheme[1].toLowerCase() === 'unix') return text.slice(scheme[0].length);
  return (scheme ? text.slice(scheme[0].length) : text).replace(/\/$/, '');
}

function toHost(item) {
  if (typeof item === 'string') {
    const address = item.trim();
    return { name: defaultName(address), address, labels: {} };
  }
  if (!item || typeof item !== 'object' || !item.address) {
    throw new Error(`list: a host must be an address string or {name, address, labels, tls}, got ${JSON.stringify(item)}`);
  }
  const host = {
    name: item.name || defaultName(item.address),
    address: String(item.address),
    labels: {},
  };
  for (const [k, v] of Object.entries(item.labels || {})) host.labels[k] = String(v);
  if (item.tls) host.tls = item.tls;
  return host;
}

// 'list' answers: "a:2375,b:2375", ['a:2375', ...], [{name, address, labels, tls}, ...],
// or {hosts: [...], refreshIntervalSeconds}.
function toListResponse(list) {
  let refreshIntervalSeconds = 0;
  if (list && typeof list === 'object' && !Array.isArray(list)) {
    refreshIntervalSeconds = Number(list.refreshIntervalSeconds) || 0;
    list = list.hosts;
  }
  if (typeof list === 'string') list = list.split(',').filter((s) => s.trim() !== '');
  if (!Array.isArray(list)) throw new Error('list: answer a comma-separated string or an array of hosts');
  return { hosts: list.map(toHost), refreshIntervalSeconds };
}

function toClient(client) {
  return {
    remoteAddress: (client && client.remoteAddress) || '',
    tlsSubject: (client && client.tlsSubject) || '',
    userAgent: (client && client.userAgent) || '',
  };
}

function toCandidate(c) {
  return {
    name: c.name,
    address: c.address,
    labels: { ...c.labels },
    healthy: c.healthy,
    containersRunning: c.containersRunning,
    containersTotal: c.containersTotal,
    ncpu: c.ncpu,
    memTotalBytes: c.memTotalBytes,
    image: PRESENCE[c.image] || 'unknown',
    engineVersion: c.engineVersion,
    facts: { ...c.facts },
    publishedPorts: (c.publishedPorts || []).map(toPort),
    reservedNanoCpus: c.reservedNanoCpus,
    reservedMemoryBytes: c.reservedMemoryBytes,
  };
}

function parseJson(buffer, what) {
  if (!buffer || buffer.length === 0) return undefined;
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch (e) {
    throw new Error(`${what} is not JSON: ${e.message}`);
  }
}

function deepFreeze(value) {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// Strips what does not matter when comparing two spellings of one address.
function sameAddress(a, b) {
  const norm = (s) => String(s).trim().replace(/^tcp:\/\//, '').replace(/\/$/, '');
  return norm(a) === norm(b);
}

// 'route' answers a host name, an address (the 2014 API), or an array of either.
function toRouteResponse(answer, candidates) {
  if (answer === undefined || answer === null || answer === '') {
    throw new Error('route: the decider chose no host');
  }
  const list = Array.isArray(answer) ? answer : [answer];
  const hosts = list.map((item) => {
    const s = String(item);
    if (candidates.some((c) => c.name === s)) return s;
    const byAddress = candidates.find((c) => c.address && sameAddress(c.address, s));
    return byAddress ? byAddress.name : s;  // unknown: the proxy reports it to the client
  });
  return { hosts };
}

function toRegistryAuthResponse(creds) {
  if (!creds) return {};
  return {
    username: creds.username || '',
    password: creds.password || '',
    identityToken: creds.identityToken || '',
    registryToken: creds.registryToken || '',
    serverAddress: creds.serverAddress || '',
  };
}

// ---------------------------------------------------------------------------------------
// Errors.

function statusError(code, message) {
  const e = new Error(message);
  e.code = code;
  e.details = message;
  return e;
}

function noOpinion() {
  return statusError(grpc.status.UNIMPLEMENTED, 'no opinion: the decider does not implement this');
}

// An error a listener passed to next()/done() (or a rejected promise): a decision. Its
// message goes to the docker user unchanged; its code is err.code when that is a gRPC
// status number (flocker.status.*), else FAILED_PRECONDITION.
function decisionStatus(err) {
  const message = err instanceof Error ? err.message : String(err);
  const code = err && Number.isInteger(err.code) && err.code > 0 && err.code <= 16
    ? err.code : grpc.status.FAILED_PRECONDITION;
  return statusError(code, message || 'the decider refused the operation');
}

// A listener that threw: a bug in the decider. INTERNAL, as in the C++ SDK.
function crashStatus(rpc, err) {
  const message = err instanceof Error ? err.message : String(err);
  return statusError(grpc.status.INTERNAL, `${rpc} failed in the decider: ${message}`);
}

// ---------------------------------------------------------------------------------------

// Remembers info.container from Route until RemapContainer asks for it (same request id).
class Kept {
  constructor(ttlMs, max) {
    this.ttlMs = ttlMs;
    this.max = max;
    this.map = new Map();  // insertion order = age order (the TTL is constant)
  }

  put(id, value) {
    const now = Date.now();
    this.map.delete(id);
    for (const [k, v] of this.map) {
      if (v.expires > now && this.map.size < this.max) break;
      this.map.delete(k);
    }
    this.map.set(id, { ...value, expires: now + this.ttlMs });
  }

  take(id) {
    const v = this.map.get(id);
    if (!v) return undefined;
    this.map.delete(id);
    return v.expires > Date.now() ? v : undefined;
  }
}

const SERVING = 'SERVING';
const NOT_SERVING = 'NOT_SERVING';

class Flocker extends EventEmitter {
  // options: protoDir (see protoDir()), keepMs (how long a route's container waits for
  // its RemapContainer, 30 s), keepMax (10000), drainMs (how long close() lets calls
  // finish, 5 s), tls ({ cert, key, ca }: serve TLS, mutual with ca).
  constructor(options = {}) {
    super();
    this.options = { keepMs: 30000, keepMax: 10000, drainMs: 5000, ...options };
    this.proto = loadProto(this.options);
    this.kept = new Kept(this.options.keepMs, this.options.keepMax);
    this.server = null;
    this.port = 0;
    this.serving = SERVING;
    this.watchers = new Set();
  }

  // The listener that answers an event: the first one registered. ('allocate' is the
  // 2014 README's other name for 'route'.)
  listenerFor(event) {
    const l = this.listeners(event)[0];
    if (!l && event === 'route') return this.listeners('allocate')[0];
    return l;
  }

  // Calls listener(...args, callback) and resolves with the callback's value. The listener
  // may instead return a promise: a rejection is an error; a fulfilment with a value other
  // than undefined answers with it, as does any fulfilment when the listener takes no
  // callback parameter.
  invoke(rpc, listener, args) {
    return new Promise((resolve, reject) => {
      let settled = false;
      const once = (fn) => (v) => { if (!settled) { settled = true; fn(v); } };
      const ok = once(resolve);
      const fail = once(reject);
      const callback = (err, value) => (err ? fail(decisionStatus(err)) : ok(value));
      let returned;
      try {
        returned = listener.call(this, ...args, callback);
      } catch (e) {
        fail(crashStatus(rpc, e));
        return;
      }
      if (returned && typeof returned.then === 'function') {
        returned.then(
          (value) => { if (value !== undefined || listener.length <= args.length) ok(value); },
          (err) => fail(decisionStatus(err)));
      }
    });
  }

  // Wraps an async handler as a grpc-js unary handler.
  unary(rpc, handler) {
    return (call, callback) => {
      handler(call.request).then(
        (response) => callback(null, response),
        (err) => {
          const status = err && Number.isInteger(err.code) && err.details !== undefined
            ? err : crashStatus(rpc, err);
          if (status.code !== grpc.status.UNIMPLEMENTED) {
            this.emit('decision-error', { rpc, code: status.code, message: status.details });
          }
          callback(status);
        });
    };
  }

  async handleList(req) {
    const listener = this.listenerFor('list');
    if (!listener) throw noOpinion();
    const list = await this.invoke('List', listener, []);
    try {
      return toListResponse(list);
    } catch (e) {
      throw crashStatus('List', e);
    }
  }

  async handleRoute(req) {
    const listener = this.listenerFor('route');
    if (!listener) throw noOpinion();
    const kind = kindName(req.kind);
    const candidates = req.candidates.map(toCandidate);
    const info = {
      name: req.name,
      image: req.image,
      kind,
      candidates,
      pinnedHost: req.pinnedHost,
      cacheHost: req.cacheHost || '',
      client: toClient(req.client),
      requestId: req.requestId,
      query: req.query,
      body: req.body,
      requirements: (req.requirements || []).map(toRequirement),
      constraints: (req.constraints || []).map(toRule),
      affinities: (req.affinities || []).map(toRule),
      ports: (req.ports || []).map(toPort),
      scope: SCOPES[req.scope] !== undefined ? SCOPES[req.scope] : shortEnum(req.scope, 'OBJECT_SCOPE_'),
    };
    let original;
    if (kind === 'container-create') {
      try {
        info.container = parseJson(req.body, 'the create body');
      } catch (e) {
        throw crashStatus('Route', e);
      }
      original = JSON.stringify(info.container);
    }
    const answer = await this.invoke('Route', listener, [info]);
    let response;
    try {
      response = toRouteResponse(answer, candidates);
    } catch (e) {
      throw decisionStatus(e);
    }
    // "Any changes made to the info will apply to the forwarded request": RemapContainer
    // sends them back to the proxy.
    if (kind === 'container-create' && req.requestId &&
        info.container && typeof info.container === 'object') {
      const changed = JSON.stringify(info.container) !== original;
      const renamed = info.name !== req.name;
      if (changed || renamed || this.listenerFor('container')) {
        this.kept.put(req.requestId, { container: info.container, changed, name: renamed ? String(info.name) : undefined });
      }
    }
    return response;
  }

  async handleRemapContainer(req) {
    const kept = req.requestId ? this.kept.take(req.requestId) : undefined;
    const listener = this.listenerFor('container');
    if (!listener && !(kept && (kept.changed || kept.name !== undefined))) throw noOpinion();

    let sent;
    let container;
    let image = null;
    try {
      sent = parseJson(req.body, 'the create body');
      // The listener gets its own copy: `sent` stays what the proxy sent, for comparison.
      container = kept ? kept.container : (sent === undefined ? {} : parseJson(req.body));
      if (req.image && req.image.length) image = deepFreeze(parseJson(req.image, 'the image inspect'));
    } catch (e) {
      throw crashStatus('RemapContainer', e);
    }
    const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (!isObject(container)) {
      throw crashStatus('RemapContainer', new Error('the create body is not a JSON object'));
    }
    if (listener) await this.invoke('RemapContainer', listener, [container, image]);

    // The 2014 API renames a container by setting container.name (docker's create body has
    // no such field: it is taken out) or, in 'route', info.name.
    const clientName = isObject(sent) ? sent.name : undefined;
    const response = {};
    if (container.name !== clientName && container.name !== undefined && container.name !== null) {
      response.name = String(container.name);
    } else if (kept && kept.name !== undefined) {
      response.name = kept.name;
    }
    let out = container;
    if (clientName === undefined && 'name' in container) {
      out = { ...container };
      delete out.name;
    }
    const json = JSON.stringify(out);
    // Unchanged: send no body, so the proxy forwards the client's bytes exactly.
    if (sent === undefined || json !== JSON.stringify(sent)) response.body = Buffer.from(json);
    return response;
  }

  async handleRegistryAuth(req) {
    const listener = this.listenerFor('registry-auth');
    if (!listener) throw noOpinion();
    const registry = {
      registry: req.registry,
      image: req.image,
      client: toClient(req.client),
      host: req.host,
      requestId: req.requestId,
    };
    const creds = await this.invoke('RegistryAuth', listener, [registry]);
    return toRegistryAuthResponse(creds);
  }

  // 'authorize': listener(request, next) with next(err, answer): true allows, false denies,
  // a string denies with that message for the docker user.
  async handleAuthorize(req) {
    const listener = this.listenerFor('authorize');
    if (!listener) throw noOpinion();
    const request = {
      requestId: req.requestId,
      method: req.method,
      path: req.path,
      apiVersion: req.apiVersion,
      query: req.query,
      client: toClient(req.client),
      endpointClass: String(req.endpointClass || '').replace(/^ENDPOINT_CLASS_/, '').toLowerCase(),
      body: req.body && req.body.length ? req.body : null,
      bodyInspected: req.bodyInspected,
      contentType: req.contentType,
      stage: String(req.stage || '').replace(/^AUTHORIZE_STAGE_/, '').toLowerCase(),
      host: req.host,
    };
    const answer = await this.invoke('Authorize', listener, [request]);
    if (answer === true) return { allow: true };
    if (answer === false || answer === undefined || answer === null) return { allow: false };
    if (typeof answer === 'string') return { allow: false, message: answer };
    if (typeof answer === 'object' && 'allow' in answer) {
      return { allow: Boolean(answer.allow), message: answer.message || '' };
    }
    throw new TypeError(`'authorize' answered ${JSON.stringify(answer)}: answer true, false or a message`);
  }

  // Health: SERVING for "" and flocker.v1.Decider until close() begins.
  healthStatus(service) {
    return service === '' || service === SERVICE_NAME ? this.serving : null;
  }

  setServing(status) {
    this.serving = status;
    for (const w of this.watchers) w.update();
  }

  healthCheck(call, callback) {
    const status = this.healthStatus(call.request.service);
    if (!status) {
      callback(statusError(grpc.status.NOT_FOUND, `unknown service ${call.request.service}`));
      return;
    }
    callback(null, { status });
  }

  healthWatch(call) {
    let last = null;
    const watcher = {
      update: () => {
        const status = this.healthStatus(call.request.service) || 'SERVICE_UNKNOWN';
        if (status !== last) {
          last = status;
          call.write({ status });
        }
      },
      end: () => { this.watchers.delete(watcher); call.end(); },
    };
    this.watchers.add(watcher);
    call.on('cancelled', () => this.watchers.delete(watcher));
    call.on('close', () => this.watchers.delete(watcher));
    watcher.update();
  }

  // Starts serving on address ("127.0.0.1:7070", "[::1]:0", "unix:/path"; a bare port
  // number means 127.0.0.1). cb(err, port); without cb a failure is emitted as 'error'.
  listen(address, cb) {
    if (typeof address === 'number') address = `127.0.0.1:${address}`;
    const server = new grpc.Server();
    server.addService(this.proto.flocker.v1.Decider.service, {
      List: this.unary('List', (req) => this.handleList(req)),
      Route: this.unary('Route', (req) => this.handleRoute(req)),
      RemapContainer: this.unary('RemapContainer', (req) => this.handleRemapContainer(req)),
      RegistryAuth: this.unary('RegistryAuth', (req) => this.handleRegistryAuth(req)),
      Authorize: this.unary('Authorize', (req) => this.handleAuthorize(req)),
    });
    server.addService(this.proto.grpc.health.v1.Health.service, {
      Check: (call, callback) => this.healthCheck(call, callback),
      Watch: (call) => this.healthWatch(call),
    });
    this.server = server;
    this.serving = SERVING;
    // options.tls = { cert, key, ca } (PEM Buffers or strings): TLS, and with ca, mutual TLS
    // (the proxy must present a certificate ca signed: --decider-tls-cert).
    const tls = this.options.tls;
    const credentials = tls
      ? grpc.ServerCredentials.createSsl(tls.ca ? Buffer.from(tls.ca) : null,
        [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], Boolean(tls.ca))
      : grpc.ServerCredentials.createInsecure();
    server.bindAsync(address, credentials, (err, port) => {
      if (err) {
        this.server = null;
        const e = new Error(`cannot listen on ${address}: ${err.message}`);
        if (cb) cb(e); else this.emit('error', e);
        return;
      }
      this.port = port;
      this.emit('listening', port);
      if (cb) cb(null, port);
    });
    return this;
  }

  // Health turns NOT_SERVING (watchers are told, then their streams end), calls in flight
  // get options.drainMs to finish, then the server stops. cb(err).
  close(cb = () => {}) {
    const server = this.server;
    if (!server) {
      process.nextTick(cb);
      return this;
    }
    this.server = null;
    this.setServing(NOT_SERVING);
    for (const w of [...this.watchers]) w.end();
    let done = false;
    const timer = setTimeout(() => {
      if (!done) server.forceShutdown();
    }, this.options.drainMs);
    timer.unref();
    server.tryShutdown((err) => {
      done = true;
      clearTimeout(timer);
      this.emit('close');
      cb(err || null);
    });
    return this;
  }
}

function flocker(options) {
  return new Flocker(options);
}

module.exports = flocker;
module.exports.Flocker = Flocker;
module.exports.status = grpc.status;
module.exports.loadProto = loadProto;
module.exports.PROTO_OPTIONS = PROTO_OPTIONS;
module.exports.defaultName = defaultName;
