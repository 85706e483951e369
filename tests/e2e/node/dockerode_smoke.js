// dockerode through flocker: the calls a Node.js user makes most.
'use strict';
const Docker = require('dockerode');
const { PassThrough } = require('stream');

const [url, image] = process.argv.slice(2);
const u = new URL(url);
const docker = new Docker({ host: u.hostname, port: Number(u.port), protocol: 'http' });

function check(cond, what) {
  if (!cond) throw new Error('dockerode: ' + what);
}

(async () => {
  check((await docker.ping()).toString() === 'OK', 'ping');
  const info = await docker.info();
  check(info.SystemStatus && info.SystemStatus.length > 0, 'info has SystemStatus');
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => { text += d.toString(); });
  const [result, container] = await docker.run(image, ['echo', 'from dockerode'], out, { Tty: false });
  check(result.StatusCode === 0, 'run exit code ' + result.StatusCode);
  check(text.includes('from dockerode'), 'run output: ' + JSON.stringify(text));
  const inspected = await container.inspect();
  check(inspected.Node && inspected.Node.Name, 'inspect shows the Node');
  await container.remove();
  const c = await docker.createContainer({ Image: image, Cmd: ['sleep', '30'], name: 'e2e-dockerode' });
  await c.start();
  const list = await docker.listContainers();
  check(list.some((x) => x.Names.includes('/e2e-dockerode')), 'listContainers');
  await c.remove({ force: true });
  console.log('dockerode ok');
})().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
