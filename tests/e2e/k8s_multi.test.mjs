// The multi-instance overlay, deploy/k8s-multi (R9: across zones, RTO under 5 minutes; issue 10),
// as `kubectl kustomize` builds it: every object against its schema, the gateway's spread,
// tolerations, probes, drain and disruption budget, the init container that writes the node's
// zone and the pod's name into the configuration (run here for real, against a stub of the API
// server, and its output checked by `deepwatch serve --check`), the node-reading RBAC, and the
// etcd StatefulSet that the configuration lists. Each property is a function that the last tests
// run on broken copies, so that every check is seen to fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { BIN, startGateway } from '../lib/harness.mjs';
import { modelFor, unknownFields } from './k8s_schema.mjs';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const OVERLAY_DIR = join(DEPLOY, 'k8s-multi');
const BASE_DIR = join(DEPLOY, 'k8s');

// The kubelet's node-monitor-grace-period (50 s since Kubernetes 1.32, 40 s before): how long a
// dead node's pods still count as running before the node is marked and tolerations start.
const NODE_MONITOR_GRACE_S = 50;
// Scheduling, image pull, init container and the first readiness probe of a replacement pod.
const POD_START_S = 120;
// R9's recovery time objective.
const RTO_S = 300;

function kustomize(dir) {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (r.error?.code === 'ENOENT') return null;
  assert.equal(r.status, 0, `kubectl kustomize ${dir}: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS();
  });
}

const built = kustomize(OVERLAY_DIR);
const NO_KUBECTL = built === null && 'kubectl is not installed (the overlay is built with kubectl kustomize)';

function find(objects, kind, name) {
  const found = objects.filter((o) => o.kind === kind && o.metadata?.name === name);
  assert.equal(found.length, 1, `exactly one ${kind} ${name}`);
  return found[0];
}

function selects(selector, labels) {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function containerPort(c, port) {
  const found = c.ports?.find((p) => p.name === port || p.containerPort === port);
  assert.ok(found, `container ${c.name} exposes port ${port}`);
  return found.containerPort;
}

function seconds(duration) {
  const m = /^(\d+)(ms|s|m)$/.exec(duration);
  assert.ok(m, `a duration: ${duration}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2]];
}

// The objects the tests read, from a build (the real one or a broken copy).
function parts(objects) {
  const gateway = find(objects, 'Deployment', 'deepwatch');
  const pod = gateway.spec.template.spec;
  const main = pod.containers.find((c) => c.name === 'deepwatch');
  const init = (pod.initContainers ?? []).find((c) => c.name === 'render-config');
  const templateVolume = pod.volumes.find((v) => v.name === init?.volumeMounts.find((m) => m.readOnly)?.name);
  const templateMap = find(objects, 'ConfigMap', templateVolume?.configMap?.name);
  return { gateway, pod, main, init, templateMap };
}

// --- The render script, run as the init container runs it ----------------------------------

const NODE_NAME = 'node-eu-b-1';
const POD_NAME = 'deepwatch-6c9f7d8b5-x2k4q';

function nodeJson({ zone = 'eu-west-1b', annotations = {} } = {}) {
  const labels = { 'kubernetes.io/hostname': NODE_NAME, 'topology.kubernetes.io/region': 'eu-west-1' };
  if (zone !== null) labels['topology.kubernetes.io/zone'] = zone;
  // The API server's answer: compact JSON, labels before annotations.
  return JSON.stringify({
    kind: 'Node',
    apiVersion: 'v1',
    metadata: { name: NODE_NAME, labels, annotations },
    spec: { podCIDR: '10.244.1.0/24' },
  });
}

// Runs the ConfigMap's render-config.sh under /bin/sh with the init container's environment, a
// service account directory of its own, and a `curl` on PATH that checks how it is called and
// answers `node` (or fails as curl -f does on an HTTP error). Returns the script's exit status,
// its stderr, the rendered configuration, and `curl`: the stub's arguments and standard input.
function render(templateMap, init, { node = nodeJson(), podName = POD_NAME, template = null, apiDown = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dw-render-'));
  try {
    const env = Object.fromEntries(init.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    const templatePath = join(dir, 'etc', env.TEMPLATE.replace(/^\//, ''));
    const outPath = join(dir, 'run', env.OUT.replace(/^\//, ''));
    mkdirSync(dirname(templatePath), { recursive: true });
    writeFileSync(templatePath, template ?? templateMap.data['config.yaml.tmpl']);
    const script = join(dirname(templatePath), 'render-config.sh');
    writeFileSync(script, templateMap.data['render-config.sh']);
    const sa = join(dir, 'sa');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'token-of-the-pod');
    writeFileSync(join(sa, 'ca.crt'), 'ca');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(dir, 'node.json'), node);
    writeFileSync(
      join(bin, 'curl'),
      `#!/bin/sh\ncat > '${dir}/curl-stdin'\nprintf '%s\\n' "$@" > '${dir}/curl-args'\n` +
        (apiDown ? 'echo "curl: (22) The requested URL returned error: 403" >&2\nexit 22\n' : `cat '${dir}/node.json'\n`),
    );
    chmodSync(join(bin, 'curl'), 0o755);
    const r = spawnSync('sh', [script], {
      encoding: 'utf8',
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        ...env,
        TEMPLATE: templatePath,
        OUT: outPath,
        NODE_NAME,
        POD_NAME: podName,
        SA_DIR: sa,
      },
    });
    const read = (f) => (existsSync(f) ? readFileSync(f, 'utf8') : null);
    return {
      status: r.status,
      stderr: r.stderr,
      rendered: read(outPath),
      leftover: existsSync(`${outPath}.tmp`),
      curl: { stdin: read(join(dir, 'curl-stdin')), args: read(join(dir, 'curl-args'))?.trim().split('\n') },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function check(configText) {
  const dir = mkdtempSync(join(tmpdir(), 'dw-multi-'));
  try {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, configText);
    return spawnSync(BIN, ['serve', '-c', file, '--check'], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- Properties -----------------------------------------------------------------------------

// Three gateways spread one per zone (a rule) and over nodes (a preference), a rollout that never
// drops below three, and a node loss that the tolerations turn into a replacement within the RTO.
function checkGatewaySpread(objects) {
  const { gateway, pod } = parts(objects);
  const labels = gateway.spec.template.metadata.labels;
  assert.equal(gateway.spec.replicas, 3);
  assert.equal(gateway.spec.strategy.rollingUpdate.maxUnavailable, 0);
  const spread = (key) => pod.topologySpreadConstraints.filter((c) => c.topologyKey === key);
  const [zone] = spread('topology.kubernetes.io/zone');
  assert.equal(spread('topology.kubernetes.io/zone').length, 1, 'one zone constraint');
  assert.equal(zone.maxSkew, 1);
  assert.equal(zone.whenUnsatisfiable, 'DoNotSchedule');
  assert.ok(selects(zone.labelSelector.matchLabels, labels), 'the zone constraint counts the gateways');
  const [host] = spread('kubernetes.io/hostname');
  assert.equal(host?.whenUnsatisfiable, 'ScheduleAnyway');
  assert.ok(selects(host.labelSelector.matchLabels, labels), 'the hostname constraint counts the gateways');

  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const t = pod.tolerations.find((x) => x.key === key);
    assert.ok(t, `a toleration for ${key}`);
    assert.equal(t.effect, 'NoExecute');
    assert.equal(t.operator, 'Exists');
    assert.ok(Number.isInteger(t.tolerationSeconds) && t.tolerationSeconds < 300, `${key}: ${t.tolerationSeconds} s`);
    const recovery = NODE_MONITOR_GRACE_S + t.tolerationSeconds + POD_START_S;
    assert.ok(recovery < RTO_S, `${key}: a dead node's gateway is back after about ${recovery} s`);
  }
}

// Probes on the admin listener's health paths, and a grace period that covers the drain.
function checkProbesAndDrain(objects, config) {
  const { pod, main } = parts(objects);
  assert.equal(main.livenessProbe.httpGet.path, '/healthz');
  assert.equal(main.readinessProbe.httpGet.path, '/readyz');
  for (const probe of [main.livenessProbe, main.readinessProbe]) {
    assert.equal(containerPort(main, probe.httpGet.port), config.listeners.admin.port, 'probes on the admin port');
  }
  assert.equal(config.listeners.admin.host, '0.0.0.0', 'the kubelet reaches the admin port');
  assert.equal(containerPort(main, 'http'), config.listeners.api.port);
  const preStop = main.lifecycle?.preStop?.sleep?.seconds ?? 0;
  assert.ok(
    pod.terminationGracePeriodSeconds >= seconds(config.drain_timeout) + preStop,
    `grace ${pod.terminationGracePeriodSeconds} s covers drain_timeout ${config.drain_timeout} + preStop ${preStop} s`,
  );
}

// The budget keeps two of the three gateways (and two of three etcd members, a quorum) through
// evictions, and still lets one go at a time.
function checkBudgets(objects) {
  const { gateway } = parts(objects);
  const sts = find(objects, 'StatefulSet', 'etcd');
  const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  for (const [workload, name] of [[gateway, 'deepwatch'], [sts, 'etcd']]) {
    const pdb = find(objects, 'PodDisruptionBudget', name);
    assert.equal(pdb.metadata.namespace, workload.metadata.namespace);
    const podLabels = workload.spec.template.metadata.labels;
    assert.ok(selects(pdb.spec.selector.matchLabels, podLabels), `PDB ${name} selects ${workload.kind}'s pods`);
    assert.equal(pdb.spec.minAvailable, 2, `PDB ${name}`);
    assert.ok(pdb.spec.minAvailable < workload.spec.replicas, `PDB ${name} lets one pod be evicted`);
    // Each workload's pods are counted by its own budget only.
    const counting = budgets.filter((b) => selects(b.spec.selector.matchLabels, podLabels));
    assert.deepEqual(counting.map((b) => b.metadata.name), [name], `budgets counting ${workload.metadata.name}`);
  }
  const quorum = Math.floor(sts.spec.replicas / 2) + 1;
  assert.ok(find(objects, 'PodDisruptionBudget', 'etcd').spec.minAvailable >= quorum, 'a quorum');
}

// The init container gets the node's and the pod's names, reads the template where the volume
// puts it and writes where deepwatch reads, with the right to get nodes and no more.
function checkInitContainer(objects) {
  const { gateway, pod, main, init, templateMap } = parts(objects);
  assert.ok(init, 'an init container render-config');
  const field = (name) => init.env.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
  assert.equal(field('NODE_NAME'), 'spec.nodeName');
  assert.equal(field('POD_NAME'), 'metadata.name');
  const env = Object.fromEntries(init.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
  const mountOf = (c, path) => c.volumeMounts.find((m) => path.startsWith(`${m.mountPath}/`));
  // The script and the template come from the generated ConfigMap.
  const scriptMount = mountOf(init, init.command[1]);
  assert.deepEqual(init.command, ['sh', `${scriptMount.mountPath}/render-config.sh`]);
  assert.equal(mountOf(init, env.TEMPLATE)?.name, scriptMount.name);
  assert.ok(templateMap.data['config.yaml.tmpl'] && templateMap.data['render-config.sh']);
  assert.match(templateMap.metadata.name, /^deepwatch-config-template-[a-z0-9]{10}$/, 'a hashed name: edits roll the pods');
  // The rendered file is on a volume both containers mount, and is what deepwatch reads.
  const outVolume = mountOf(init, env.OUT)?.name;
  assert.ok(pod.volumes.find((v) => v.name === outVolume)?.emptyDir, 'the rendered file is on an emptyDir');
  assert.equal(mountOf(main, env.OUT)?.name, outVolume);
  assert.deepEqual(main.args, ['serve', '-c', env.OUT]);
  assert.equal(init.securityContext.readOnlyRootFilesystem, true);
  assert.equal(init.securityContext.allowPrivilegeEscalation, false);
  assert.equal(pod.securityContext.runAsNonRoot, true);

  const role = find(objects, 'ClusterRole', 'deepwatch-node-reader');
  assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]);
  const binding = find(objects, 'ClusterRoleBinding', 'deepwatch-node-reader');
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
  assert.deepEqual(binding.subjects, [
    { kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: gateway.metadata.namespace },
  ]);
  find(objects, 'ServiceAccount', pod.serviceAccountName);
}

// etcd: three members with stable names behind a headless Service, exactly the endpoints the
// gateways' configuration lists, one per zone and never two on a node, reachable by the gateways.
function checkEtcd(objects, config) {
  const sts = find(objects, 'StatefulSet', 'etcd');
  const svc = find(objects, 'Service', sts.spec.serviceName);
  const ns = sts.metadata.namespace;
  assert.equal(svc.spec.clusterIP, 'None');
  assert.equal(svc.spec.publishNotReadyAddresses, true);
  assert.ok(selects(svc.spec.selector, sts.spec.template.metadata.labels));
  assert.equal(sts.spec.replicas, 3);
  assert.equal(sts.spec.podManagementPolicy, 'Parallel');
  const etcd = sts.spec.template.spec.containers[0];
  const port = (name) => svc.spec.ports.find((p) => p.name === name);
  assert.equal(containerPort(etcd, port('client').targetPort), port('client').port);
  const members = [...Array(sts.spec.replicas).keys()].map(
    (i) => `${sts.metadata.name}-${i}.${svc.metadata.name}.${ns}.svc.cluster.local`,
  );
  assert.deepEqual(config.control.cluster.etcd, members.map((m) => `http://${m}:${port('client').port}`));
  const arg = (name) => etcd.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  assert.equal(
    arg('initial-cluster'),
    members.map((m, i) => `${sts.metadata.name}-${i}=http://${m}:${port('peer').port}`).join(','),
  );
  assert.equal(arg('name'), '$(POD_NAME)');
  assert.equal(etcd.env.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');

  const pod = sts.spec.template.spec;
  const [anti] = pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  assert.equal(anti.topologyKey, 'kubernetes.io/hostname');
  assert.ok(selects(anti.labelSelector.matchLabels, sts.spec.template.metadata.labels));
  const zone = pod.topologySpreadConstraints.find((c) => c.topologyKey === 'topology.kubernetes.io/zone');
  assert.equal(zone?.whenUnsatisfiable, 'DoNotSchedule');
  assert.ok(pod.tolerations.every((t) => t.tolerationSeconds < 300));

  // The gateways may reach the client port.
  const policy = find(objects, 'NetworkPolicy', 'etcd');
  assert.ok(selects(policy.spec.podSelector.matchLabels, sts.spec.template.metadata.labels));
  const gatewayLabels = parts(objects).gateway.spec.template.metadata.labels;
  const open = policy.spec.ingress.filter((rule) =>
    rule.from.some((f) => f.podSelector && selects(f.podSelector.matchLabels, gatewayLabels)),
  );
  assert.deepEqual(open.flatMap((rule) => rule.ports.map((p) => containerPort(etcd, p.port))), [port('client').port]);
}

// The API Service for clients, a headless admin Service for scrapes and operators.
function checkServices(objects) {
  const { gateway, main } = parts(objects);
  const labels = gateway.spec.template.metadata.labels;
  const api = find(objects, 'Service', 'deepwatch');
  assert.ok(selects(api.spec.selector, labels));
  assert.deepEqual(api.spec.ports.map((p) => containerPort(main, p.targetPort)), [containerPort(main, 'http')]);
  const admin = find(objects, 'Service', 'deepwatch-admin');
  assert.ok(selects(admin.spec.selector, labels));
  assert.equal(admin.spec.clusterIP, 'None');
  assert.equal(admin.spec.publishNotReadyAddresses, true);
  assert.deepEqual(admin.spec.ports.map((p) => containerPort(main, p.targetPort)), [containerPort(main, 'admin')]);
  const annotations = gateway.spec.template.metadata.annotations;
  assert.equal(String(annotations['prometheus.io/port']), String(containerPort(main, 'admin')));
  assert.equal(annotations['prometheus.io/path'], '/metrics');
}

// --- Tests ----------------------------------------------------------------------------------

test('the overlay builds: the base plus the HA objects, every one valid for its kind', { skip: NO_KUBECTL }, async () => {
  const base = kustomize(BASE_DIR);
  const id = (o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`.replace(/-[a-z0-9]{10}$/, '-<hash>');
  const added = built.map(id).filter((x) => !base.map(id).includes(x)).sort();
  const removed = base.map(id).filter((x) => !built.map(id).includes(x));
  assert.deepEqual(added, [
    'ClusterRole//deepwatch-node-reader',
    'ClusterRoleBinding//deepwatch-node-reader',
    'ConfigMap/deepseek/deepwatch-config-template-<hash>',
    'NetworkPolicy/deepseek/etcd',
    'PodDisruptionBudget/deepseek/deepwatch',
    'PodDisruptionBudget/deepseek/etcd',
    'Service/deepseek/deepwatch-admin',
    'Service/deepseek/etcd',
    'StatefulSet/deepseek/etcd',
  ]);
  assert.deepEqual(removed, ['ConfigMap/deepseek/deepwatch-config'], 'the template replaces the single-instance ConfigMap');

  for (const obj of built) {
    const where = `${obj.kind} ${obj.metadata.name}`;
    const model = await modelFor(obj.apiVersion, obj.kind);
    assert.ok(model, `${where}: ${obj.apiVersion} has no schema here`);
    assert.doesNotThrow(() => new model.Model(obj).validate(), where);
    assert.ok(model.type?.props.has('metadata'), `${where}: declarations were read`);
    assert.deepEqual(unknownFields(obj, model.type), [], `${where}: fields unknown to ${obj.kind}`);
    const clusterScoped = obj.kind.startsWith('Cluster');
    const expected = clusterScoped ? undefined : obj.metadata.name === 'deepwatch-adapter-config' ? 'monitoring' : 'deepseek';
    assert.equal(obj.metadata.namespace, expected, `${where}: namespace`);
  }
});

test('three gateways: one per zone, spread over nodes, replaced within the RTO after a node loss', { skip: NO_KUBECTL }, () => {
  checkGatewaySpread(built);
});

test('disruption budgets keep two gateways and an etcd quorum', { skip: NO_KUBECTL }, () => {
  checkBudgets(built);
});

test('Services: the API for clients, a headless admin Service, scrape annotations on the admin port', { skip: NO_KUBECTL }, () => {
  checkServices(built);
});

test('the init container and its RBAC: node and pod names in, the rendered file where deepwatch reads', { skip: NO_KUBECTL }, () => {
  checkInitContainer(built);
});

test('render-config.sh writes the node zone and the pod name; deepwatch accepts the result', { skip: NO_KUBECTL }, (t) => {
  const { init, templateMap } = parts(built);
  const r = render(templateMap, init);
  assert.equal(r.status, 0, r.stderr);
  // It asked the API server for this node, with the pod's token on stdin, not on its command line.
  assert.ok(r.curl.args.includes(`https://kubernetes.default.svc/api/v1/nodes/${NODE_NAME}`), r.curl.args.join(' '));
  assert.ok(r.curl.args.includes('-K') && r.curl.args.includes('-'), 'curl reads its options from stdin');
  assert.ok(!r.curl.args.some((a) => a.includes('token-of-the-pod')), 'no token in argv');
  assert.match(r.curl.stdin, /^header = "Authorization: Bearer token-of-the-pod"$/m);
  assert.ok(r.curl.args.some((a) => a.endsWith('/ca.crt')), 'the API server is verified with the cluster CA');

  assert.doesNotMatch(r.rendered, /\$\{/);
  const config = parseYaml(r.rendered);
  assert.equal(config.zone, 'eu-west-1b');
  assert.equal(config.control.cluster.name, POD_NAME);
  checkProbesAndDrain(built, config);
  checkEtcd(built, config);

  if (!existsSync(BIN)) {
    t.skip(`no deepwatch binary at ${BIN}`);
    return;
  }
  const ok = check(r.rendered);
  assert.equal(ok.status, 0, ok.stderr + ok.stdout);
  // --check does refuse a bad cluster section, so its yes above means something.
  const bad = check(r.rendered.replace(/lease_ttl: \S+/, 'lease_ttl: 1s'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /control\.cluster\.lease_ttl: must be at least 2s/);
});

test('render-config.sh: no zone label, a zone only in an annotation, API refusals and bad input', { skip: NO_KUBECTL }, () => {
  const { init, templateMap } = parts(built);
  // A node without the label (a one-zone cluster): no zone preference, and it says so.
  const unlabelled = render(templateMap, init, { node: nodeJson({ zone: null }) });
  assert.equal(unlabelled.status, 0, unlabelled.stderr);
  assert.equal(parseYaml(unlabelled.rendered).zone, '');
  assert.match(unlabelled.stderr, /no topology\.kubernetes\.io\/zone label/);
  // The key in an annotation's JSON is not the node's label.
  const annotated = render(templateMap, init, {
    node: nodeJson({ zone: null, annotations: { 'example.com/topology': '{"topology.kubernetes.io/zone":"elsewhere"}' } }),
  });
  assert.equal(parseYaml(annotated.rendered).zone, '');
  const both = render(templateMap, init, {
    node: nodeJson({ zone: 'eu-west-1c', annotations: { 'example.com/topology': '{"topology.kubernetes.io/zone":"elsewhere"}' } }),
  });
  assert.equal(parseYaml(both.rendered).zone, 'eu-west-1c');
  // Pretty-printed JSON reads the same.
  const pretty = render(templateMap, init, { node: JSON.stringify(JSON.parse(nodeJson()), null, 2) });
  assert.equal(parseYaml(pretty.rendered).zone, 'eu-west-1b');

  // The API refuses (RBAC missing): the pod does not start on a half-made configuration.
  const refused = render(templateMap, init, { apiDown: true });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /cannot read node .*deepwatch-node-reader/);
  assert.equal(refused.rendered, null);
  // Refused: a zone that is not a valid label value, a pod name that is not a valid pod name,
  // and a template placeholder for which the script has no value.
  const injected = render(templateMap, init, { node: nodeJson({ zone: 'a|b' }) });
  assert.notEqual(injected.status, 0);
  assert.match(injected.stderr, /is not a label value/);
  const badPod = render(templateMap, init, { podName: 'Deepwatch_1' });
  assert.notEqual(badPod.status, 0);
  assert.match(badPod.stderr, /is not a pod name/);
  const unknown = render(templateMap, init, { template: `${templateMap.data['config.yaml.tmpl']}\n# \${REGION}\n` });
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /placeholders other than ZONE and POD_NAME/);
  assert.equal(unknown.rendered, null);
  assert.equal(unknown.leftover, false);
});

test('render-config.sh is clean under shellcheck, as POSIX sh', { skip: NO_KUBECTL }, (t) => {
  const probe = spawnSync('shellcheck', ['--version']);
  if (probe.error) {
    t.skip('shellcheck is not installed (scripts/bootstrap installs it)');
    return;
  }
  const { templateMap } = parts(built);
  const script = templateMap.data['render-config.sh'];
  const r = spawnSync('shellcheck', ['--shell=sh', '-'], { input: script, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // A bashism is what shellcheck reports for sh, so the check can fail.
  const bashism = spawnSync('shellcheck', ['--shell=sh', '-'], {
    input: '#!/bin/sh\n[[ -n "$1" ]] && echo x\n',
    encoding: 'utf8',
  });
  assert.notEqual(bashism.status, 0);
});

const NO_BINARY = !existsSync(BIN) && `no deepwatch binary at ${BIN}`;

test('the rendered configuration serves /healthz and /readyz on the admin port', { skip: NO_KUBECTL || NO_BINARY }, async () => {
  const { init, templateMap } = parts(built);
  const config = parseYaml(render(templateMap, init).rendered);
  // The same configuration on loopback ports chosen by the OS, without etcd (the cluster's names
  // do not resolve here) and with replicas that refuse connections.
  const { listeners, state_dir: stateDir, control, models, ...rest } = config;
  for (const version of models[0].versions) version.replicas = [{ url: 'http://127.0.0.1:1' }];
  const proc = await startGateway({ ...rest, models }, { ready: false });
  try {
    assert.equal((await fetch(`${proc.admin}/healthz`)).status, 200);
    // Ready or not (no replica answers here), but served, unlike a path that does not exist.
    assert.ok([200, 503].includes((await fetch(`${proc.admin}/readyz`)).status));
    assert.equal((await fetch(`${proc.admin}/no-such-path`)).status, 404);
  } finally {
    await proc.stop();
  }
});

test('the etcd flags are flags of etcd', { skip: NO_KUBECTL }, (t) => {
  const help = spawnSync('etcd', ['--help'], { encoding: 'utf8' });
  if (help.error) {
    t.skip('etcd is not installed');
    return;
  }
  const text = help.stdout + help.stderr;
  const etcd = find(built, 'StatefulSet', 'etcd').spec.template.spec.containers[0];
  for (const arg of etcd.args) {
    const flag = /^(--[a-z-]+)=/.exec(arg)?.[1];
    assert.ok(flag, `--flag=value: ${arg}`);
    assert.ok(new RegExp(`^\\s+${flag}\\b`, 'm').test(text), `etcd knows ${flag}`);
  }
  assert.ok(!/^\s+--no-such-flag\b/m.test(text));
});

test('broken copies fail: every check above can fail', { skip: NO_KUBECTL }, () => {
  const { init, templateMap } = parts(built);
  const config = parseYaml(render(templateMap, init).rendered);
  const broken = (edit) => {
    const copy = structuredClone(built);
    edit(parts(copy), copy);
    return copy;
  };
  assert.throws(() => checkGatewaySpread(broken(({ gateway }) => (gateway.spec.replicas = 2))));
  assert.throws(
    () => checkGatewaySpread(broken(({ pod }) => (pod.topologySpreadConstraints[0].whenUnsatisfiable = 'ScheduleAnyway'))),
    /DoNotSchedule/,
  );
  assert.throws(
    () => checkGatewaySpread(broken(({ pod }) => (pod.topologySpreadConstraints[0].labelSelector.matchLabels = { app: 'other' }))),
    /counts the gateways/,
  );
  // Kubernetes' default of 300 s misses the RTO; so does anything above about 2 minutes.
  assert.throws(() => checkGatewaySpread(broken(({ pod }) => (pod.tolerations[1].tolerationSeconds = 300))), /300 s/);
  assert.throws(() => checkGatewaySpread(broken(({ pod }) => (pod.tolerations[0].tolerationSeconds = 150))), /back after about 320 s/);
  assert.throws(() => checkGatewaySpread(broken(({ pod }) => pod.tolerations.pop())), /unreachable/);

  assert.throws(() => checkProbesAndDrain(broken(({ main }) => (main.readinessProbe.httpGet.path = '/ready')), config));
  assert.throws(() => checkProbesAndDrain(broken(({ main }) => (main.livenessProbe.httpGet.port = 'http')), config));
  assert.throws(() => checkProbesAndDrain(broken(({ pod }) => (pod.terminationGracePeriodSeconds = 60)), config), /covers drain_timeout/);

  assert.throws(
    () =>
      checkBudgets(
        broken((_, copy) => (find(copy, 'PodDisruptionBudget', 'deepwatch').spec.selector.matchLabels = { app: 'deepwatch-gw' })),
      ),
    /selects Deployment's pods/,
  );
  assert.throws(() => checkBudgets(broken((_, copy) => (find(copy, 'PodDisruptionBudget', 'deepwatch').spec.minAvailable = 3))));
  assert.throws(
    () => checkBudgets(broken((_, copy) => (find(copy, 'PodDisruptionBudget', 'etcd').spec.selector.matchLabels = {}))),
    /budgets counting deepwatch/,
  );

  assert.throws(() => checkInitContainer(broken(({ init: i }) => (i.env[0].valueFrom.fieldRef.fieldPath = 'metadata.name'))));
  assert.throws(() => checkInitContainer(broken(({ main }) => (main.args = ['serve', '-c', '/etc/deepwatch/config.yaml']))));
  assert.throws(
    () => checkInitContainer(broken((_, copy) => find(copy, 'ClusterRole', 'deepwatch-node-reader').rules[0].verbs.push('list'))),
  );
  assert.throws(
    () =>
      checkInitContainer(
        broken((_, copy) => (find(copy, 'ClusterRoleBinding', 'deepwatch-node-reader').subjects[0].namespace = 'default')),
      ),
  );

  assert.throws(() => checkEtcd(built, { ...config, control: { cluster: { etcd: config.control.cluster.etcd.slice(0, 2) } } }));
  assert.throws(() => checkEtcd(broken((_, copy) => (find(copy, 'StatefulSet', 'etcd').spec.podManagementPolicy = 'OrderedReady')), config));
  assert.throws(
    () =>
      checkEtcd(
        broken((_, copy) => (find(copy, 'NetworkPolicy', 'etcd').spec.ingress[0].from[0].podSelector.matchLabels = { app: 'x' })),
        config,
      ),
  );

  assert.throws(() => checkServices(broken((_, copy) => (find(copy, 'Service', 'deepwatch-admin').spec.clusterIP = undefined))));
  assert.throws(
    () =>
      checkServices(
        broken((_, copy) => find(copy, 'Service', 'deepwatch').spec.ports.push({ name: 'admin', port: 9090, targetPort: 'admin' })),
      ),
  );
});
