#!/usr/bin/env node
'use strict';
// A zone-aware decider:  node zone-decider.js LISTEN_ADDRESS HOSTS_FILE
//
// HOSTS_FILE has one engine a line, `ADDRESS [NAME] [key=value ...]`, '#' starts a comment:
//   tcp://127.0.0.1:23751  e1  zone=a
//   tcp://127.0.0.1:23752  e2  zone=b
// It is read again on every List, so edits show at the proxy's next inventory refresh.
//
// A container with `-e constraint:zone==X` (or Labels {"zone": "X"}) goes to a healthy host labelled
// zone=X and gets FLOCKER_ZONE=X in its Env; pulls go to every healthy host; shared volumes
// and networks too (local ones, info.scope 'local', live on one host); anything else
// round-robins. A pinned host (docker run's pull and retried
// create) is kept when it is healthy.
const fs = require('fs');
const flocker = require('..');  // require('flocker') in your own project

const [listen = '127.0.0.1:7070', hostsFile = 'hosts'] = process.argv.slice(2);

function readHosts() {
  const hosts = [];
  for (const line of fs.readFileSync(hostsFile, 'utf8').split('\n')) {
    const [address, ...words] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address) continue;
    const host = { address, labels: {} };
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq < 0) host.name = w;
      else host.labels[w.slice(0, eq)] = w.slice(eq + 1);
    }
    hosts.push(host);
  }
  return hosts;
}

const dockers = flocker();
let turn = 0;

dockers.on('list', (next) => next(null, readHosts()));

dockers.on('route', (info, next) => {
  let healthy = info.candidates.filter((c) => c.healthy);
  // The zone: Swarm classic's `-e constraint:zone==X` (the proxy parsed it), or a label.
  const byConstraint = info.constraints.find((c) => c.key === 'zone' && c.op === '==' && c.kind === 'plain');
  const zone = (byConstraint && byConstraint.value) ||
    (info.container && info.container.Labels && info.container.Labels.zone);
  if (zone) {
    healthy = healthy.filter((c) => c.labels.zone === zone);
    if (!healthy.length) return next(new Error(`no healthy host in zone ${zone}`));
  }
  if (!healthy.length) return next(new Error('no healthy host in the flock'));

  const pinned = healthy.find((c) => c.name === info.pinnedHost);
  let chosen;
  // A local volume or network lives on one host (its containers then follow it there);
  // shared ones, and pulls without a pin, go everywhere.
  const shared = ['volume-create', 'network-create'].includes(info.kind) && info.scope !== 'local';
  if (shared || (info.kind === 'image-pull' && !pinned)) {
    chosen = healthy;
  } else {
    chosen = [pinned || healthy[turn++ % healthy.length]];
  }

  // Changes made to info.container go to the engine (sent back through RemapContainer).
  const hostZone = chosen[0].labels.zone;
  if (info.container && hostZone) {
    info.container.Env = [...(info.container.Env || []), `FLOCKER_ZONE=${hostZone}`];
  }
  next(null, chosen.map((c) => c.name));
});

dockers.listen(listen, (err, port) => {
  if (err) {
    console.error(err.message);
    process.exit(2);
  }
  console.log(`zone decider listening on ${listen} (port ${port}), hosts from ${hostsFile}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => dockers.close(() => process.exit(0)));
}
