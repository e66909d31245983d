// The Kubernetes manifests in deploy/k8s/ against the schemas of the API server and of the CRDs
// they use (KEDA, Istio), through the `kubernetes-models` packages, plus the facts that make them
// work together: the HPA of R3 and the metric prometheus-adapter serves it, the specification's
// RBAC role (R7), the 95/5 canary (R4), Services that select their pods, probes that hit ports
// and paths the containers serve, and a gateway configuration that deepwatch itself accepts.
//
// The schemas these packages compile leave objects open (no additionalProperties: false), so
// validate() lets a misspelt field such as `readinesProbe` through, while `kubectl apply`
// rejects it (strict field validation) or the field is silently ignored. Their TypeScript
// declarations do list every field, so `unknownFields` below reads them to catch that too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { BIN, postJson, startGateway, waitFor } from '../lib/harness.mjs';

const K8S_DIR = fileURLToPath(new URL('../../deploy/k8s/', import.meta.url));
const require = createRequire(import.meta.url);

// apiVersion/kind -> the module of its model class (each module exports the class by kind).
const MODEL_MODULES = {
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Service': 'kubernetes-models/v1/Service',
  'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  'rbac.authorization.k8s.io/v1/Role': 'kubernetes-models/rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding',
  'keda.sh/v1alpha1/ScaledObject': '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
  'networking.istio.io/v1beta1/VirtualService': '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService',
  'networking.istio.io/v1beta1/DestinationRule': '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule',
};

async function modelFor(apiVersion, kind) {
  const specifier = MODEL_MODULES[`${apiVersion}/${kind}`];
  if (!specifier) return null;
  const Model = (await import(specifier))[kind];
  const declarations = require.resolve(specifier).replace(/\.js$/, '.d.ts');
  return { Model, type: interfaceIn(declarations) };
}

// Every document of every manifest file, with where it came from.
function loadManifests() {
  const out = [];
  for (const file of readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    if (file === 'kustomization.yaml') continue;
    parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8')).forEach((doc, index) => {
      assert.deepEqual(doc.errors, [], `${file} document ${index}: YAML errors`);
      if (doc.contents !== null) out.push({ file, where: `${file}#${index}`, obj: doc.toJS() });
    });
  }
  return out;
}

const manifests = loadManifests();
const all = manifests.map((m) => m.obj);

function find(kind, name) {
  const found = all.filter((o) => o.kind === kind && o.metadata?.name === name);
  assert.equal(found.length, 1, `exactly one ${kind} ${name}`);
  return found[0];
}

function container(deployment, name) {
  const found = deployment.spec.template.spec.containers.find((c) => c.name === name);
  assert.ok(found, `${deployment.metadata.name} has a container ${name}`);
  return found;
}

// The containerPort a probe, a Service or a NetworkPolicy names (by name or by number).
function containerPort(c, port) {
  const found = c.ports.find((p) => p.name === port || p.containerPort === port);
  assert.ok(found, `container ${c.name} exposes port ${port}`);
  return found.containerPort;
}

function selects(selector, labels) {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

// --- Field names from the packages' TypeScript declarations --------------------------------

// Types: {props: Map, index} for an object, {array: T}, {union: [T]}, {ref, file}, or ANY
// (primitives, literals, anything not modelled: checked no further).
const ANY = Object.freeze({ any: true });
const PRIMITIVES = new Set(['string', 'number', 'boolean', 'any', 'unknown', 'object', 'null', 'undefined']);

function tokenize(text) {
  const tokens = [];
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith('/*', i)) {
      i = text.indexOf('*/', i + 2) + 2;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      tokens.push({ str: text.slice(i + 1, j) });
      i = j + 1;
    } else if (/[\w$]/.test(c)) {
      const word = /^[\w$]+/.exec(text.slice(i, i + 200))[0];
      tokens.push({ id: word });
      i += word.length;
    } else {
      tokens.push({ punct: c });
      i++;
    }
  }
  return tokens;
}

class TypeParser {
  constructor(tokens, file, at) {
    Object.assign(this, { tokens, file, at });
  }
  peek() {
    return this.tokens[this.at]?.punct;
  }
  next() {
    return this.tokens[this.at++];
  }
  expect(punct) {
    const token = this.next();
    assert.equal(token?.punct, punct, `${this.file}: expected '${punct}' at token ${this.at - 1}`);
  }
  type() {
    if (this.peek() === '|' || this.peek() === '&') this.next();
    const alternatives = [this.primary()];
    while (this.peek() === '|' || this.peek() === '&') {
      this.next();
      alternatives.push(this.primary());
    }
    return alternatives.length === 1 ? alternatives[0] : { union: alternatives };
  }
  primary() {
    const token = this.next();
    let type = ANY;
    if (token.punct === '{') {
      type = this.object();
    } else if (token.punct === '(') {
      type = this.type();
      this.expect(')');
    } else if (token.id !== undefined && this.peek() === '<') {
      this.next();
      const args = [this.type()];
      while (this.peek() === ',') {
        this.next();
        args.push(this.type());
      }
      this.expect('>');
      type = token.id === 'Array' ? { array: args[0] } : { union: args };
    } else if (token.id !== undefined && !PRIMITIVES.has(token.id) && !/^\d/.test(token.id)) {
      type = { ref: token.id, file: this.file };
    }
    while (this.peek() === '[') {
      this.next();
      if (this.peek() === ']') {
        this.next();
        type = { array: type };
      } else {
        this.type(); // An indexed access such as T["spec"]: not modelled.
        this.expect(']');
        type = ANY;
      }
    }
    return type;
  }
  // After the opening brace.
  object() {
    const props = new Map();
    let index = null;
    while (this.peek() !== '}') {
      if (this.peek() === '[') {
        this.next();
        this.next();
        this.expect(':');
        this.type();
        this.expect(']');
        this.expect(':');
        index = this.type();
      } else {
        const key = this.next();
        if (this.peek() === '?') this.next();
        this.expect(':');
        props.set(key.str ?? key.id, this.type());
      }
      if (this.peek() === ';' || this.peek() === ',') this.next();
    }
    this.next();
    return { props, index };
  }
}

const tokenCache = new Map();
function tokensOf(file) {
  if (!tokenCache.has(file)) tokenCache.set(file, tokenize(readFileSync(file, 'utf8')));
  return tokenCache.get(file);
}

// The body of interface `name` (or of the file's first interface) in a declaration file.
function interfaceIn(file, name = null) {
  const tokens = tokensOf(file);
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (tokens[i].id !== 'interface' || (name && tokens[i + 1].id !== name)) continue;
    let open = i + 2;
    while (tokens[open].punct !== '{') open++; // Skips `extends ...`.
    return new TypeParser(tokens, file, open + 1).object();
  }
  return null;
}

// What an imported name refers to: the first interface of the declaration file it comes from.
function resolveRef({ ref, file }) {
  const text = readFileSync(file, 'utf8');
  for (const [, names, from] of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    const local = names.split(',').map((n) => n.trim().split(/\s+as\s+/).pop());
    if (!local.includes(ref)) continue;
    const target = from.startsWith('.')
      ? resolve(dirname(file), from.replace(/\.js$/, '')) + '.d.ts'
      : createRequire(file).resolve(from).replace(/\.js$/, '.d.ts');
    return (existsSync(target) && interfaceIn(target)) || ANY;
  }
  return interfaceIn(file, ref) ?? ANY;
}

function alternatives(type, out = []) {
  if (type.union) type.union.forEach((t) => alternatives(t, out));
  else if (type.ref) alternatives(resolveRef(type), out);
  else out.push(type);
  return out;
}

// Paths of the fields of `value` that `type` does not declare.
function unknownFields(value, type, path = '', found = []) {
  const types = alternatives(type);
  if (types.includes(ANY) || value === null || typeof value !== 'object') return found;
  if (Array.isArray(value)) {
    const elements = types.filter((t) => t.array).map((t) => t.array);
    if (elements.length > 0) value.forEach((v, i) => unknownFields(v, { union: elements }, `${path}[${i}]`, found));
    return found;
  }
  const objects = types.filter((t) => t.props);
  if (objects.length === 0) return found;
  for (const [key, v] of Object.entries(value)) {
    const fieldTypes = objects.flatMap((o) => [o.props.get(key), o.index]).filter(Boolean);
    if (fieldTypes.length === 0) found.push(`${path}.${key}`);
    else unknownFields(v, { union: fieldTypes }, `${path}.${key}`, found);
  }
  return found;
}

// --- Schemas --------------------------------------------------------------------------------

test('every document validates against the schema of its kind', async () => {
  assert.ok(manifests.length >= 15, `found ${manifests.length} documents`);
  for (const { where, obj } of manifests) {
    const model = await modelFor(obj.apiVersion, obj.kind);
    assert.ok(model, `${where}: ${obj.apiVersion} ${obj.kind} has no schema here`);
    assert.doesNotThrow(() => new model.Model(obj).validate(), `${where}: ${obj.kind} ${obj.metadata?.name}`);
    assert.ok(obj.metadata?.name && obj.metadata?.namespace, `${where}: name and namespace are set`);
    // prometheus-adapter reads its rules in its own namespace; everything else is in deepseek.
    const isAdapterConfig = obj.kind === 'ConfigMap' && obj.metadata.name === 'deepwatch-adapter-config';
    assert.equal(obj.metadata.namespace, isAdapterConfig ? 'monitoring' : 'deepseek', `${where}: namespace`);
  }
});

test('no document has a field that its schema does not declare', async () => {
  for (const { where, obj } of manifests) {
    const { type } = await modelFor(obj.apiVersion, obj.kind);
    // The declarations were found and read, so an empty answer means something.
    assert.ok(type?.props.has('metadata'), `${where}: declarations of ${obj.kind} were read`);
    assert.deepEqual(unknownFields(obj, type), [], `${where}: fields unknown to ${obj.kind}`);
  }
});

test('broken manifests fail: the checks above can fail', async () => {
  const original = find('HorizontalPodAutoscaler', 'deepseek-hpa');
  const { Model: Hpa, type: hpaType } = await modelFor(original.apiVersion, original.kind);
  const copy = () => structuredClone(original);

  const stringMax = copy();
  stringMax.spec.maxReplicas = '10';
  assert.throws(() => new Hpa(stringMax).validate(), /maxReplicas must be integer/);

  const noTarget = copy();
  delete noTarget.spec.scaleTargetRef;
  assert.throws(() => new Hpa(noTarget).validate(), /scaleTargetRef/);

  const badWindow = copy();
  badWindow.spec.behavior.scaleDown.stabilizationWindowSeconds = '5m';
  assert.throws(() => new Hpa(badWindow).validate(), /stabilizationWindowSeconds/);

  const misspelt = copy();
  misspelt.spec.behavior.scaleDown.stabilisationWindowSeconds = 300;
  assert.deepEqual(unknownFields(misspelt, hpaType), ['.spec.behavior.scaleDown.stabilisationWindowSeconds']);

  const deployment = structuredClone(find('Deployment', 'deepwatch'));
  const { type: deploymentType } = await modelFor(deployment.apiVersion, deployment.kind);
  deployment.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: '/readyz', port: 'admin' } };
  assert.deepEqual(unknownFields(deployment, deploymentType), ['.spec.template.spec.containers[0].readinesProbe']);

  const vs = structuredClone(find('VirtualService', 'deepseek'));
  const { Model: VirtualService, type: vsType } = await modelFor(vs.apiVersion, vs.kind);
  vs.spec.http[0].route[1].weight = '5%';
  assert.throws(() => new VirtualService(vs).validate(), /weight must be integer/);
  delete vs.spec.http[0].route[1].weight;
  vs.spec.http[0].route[1].wieght = 5;
  assert.deepEqual(unknownFields(vs, vsType), ['.spec.http[0].route[1].wieght']);
});

test('kustomization.yaml lists every manifest except the KEDA alternative, and builds', (t) => {
  const kustomization = parseYaml(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8'));
  assert.equal(kustomization.kind, 'Kustomization');
  const files = readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const expected = files.filter((f) => f !== 'keda-scaledobject.yaml').sort();
  assert.deepEqual([...kustomization.resources].sort(), expected);

  const kubectl = spawnSync('kubectl', ['kustomize', K8S_DIR], { encoding: 'utf8' });
  if (kubectl.error?.code === 'ENOENT') {
    t.skip('kubectl is not installed');
    return;
  }
  assert.equal(kubectl.status, 0, kubectl.stderr);
  const built = parseAllDocuments(kubectl.stdout).map((d) => d.toJS());
  const listed = manifests.filter((m) => m.file !== 'keda-scaledobject.yaml').map((m) => m.obj);
  const id = (o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
  assert.deepEqual(built.map(id).sort(), listed.map(id).sort());
});

// --- The gateway ----------------------------------------------------------------------------

const gateway = find('Deployment', 'deepwatch');
const gatewayPod = gateway.spec.template.spec;
const gatewayContainer = container(gateway, 'deepwatch');
const gatewayConfigMap = find('ConfigMap', 'deepwatch-config');
const gatewayConfigText = gatewayConfigMap.data['config.yaml'];
const gatewayConfig = parseYaml(gatewayConfigText);

test('the gateway Deployment runs deepwatch serve hardened, with probes on its admin port', () => {
  assert.equal(gatewayContainer.image, 'deepwatch:latest');
  assert.deepEqual(gatewayContainer.args, ['serve', '-c', '/etc/deepwatch/config.yaml']);
  assert.equal(containerPort(gatewayContainer, 'http'), gatewayConfig.listeners.api.port);
  assert.equal(containerPort(gatewayContainer, 'admin'), gatewayConfig.listeners.admin.port);
  assert.deepEqual([gatewayConfig.listeners.api.port, gatewayConfig.listeners.admin.port], [8080, 9090]);
  // Loopback would hide both listeners from the kubelet, Prometheus and the Service.
  assert.equal(gatewayConfig.listeners.api.host, '0.0.0.0');
  assert.equal(gatewayConfig.listeners.admin.host, '0.0.0.0');

  const { livenessProbe, readinessProbe } = gatewayContainer;
  assert.equal(livenessProbe.httpGet.path, '/healthz');
  assert.equal(readinessProbe.httpGet.path, '/readyz');
  assert.equal(containerPort(gatewayContainer, livenessProbe.httpGet.port), 9090);
  assert.equal(containerPort(gatewayContainer, readinessProbe.httpGet.port), 9090);
  assert.equal(String(gateway.spec.template.metadata.annotations['prometheus.io/port']), '9090');

  for (const key of ['cpu', 'memory']) {
    assert.ok(gatewayContainer.resources.requests[key], `requests.${key}`);
    assert.ok(gatewayContainer.resources.limits[key], `limits.${key}`);
  }
  assert.equal(gatewayPod.securityContext.runAsNonRoot, true);
  assert.equal(gatewayContainer.securityContext.readOnlyRootFilesystem, true);
  assert.equal(gatewayContainer.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(gatewayContainer.securityContext.capabilities.drop, ['ALL']);
  assert.equal(gatewayPod.serviceAccountName, find('ServiceAccount', 'deepwatch').metadata.name);

  // The configuration is mounted where the args read it, from the ConfigMap above.
  const mountAt = (path) => gatewayContainer.volumeMounts.find((m) => m.mountPath === path);
  const configVolume = gatewayPod.volumes.find((v) => v.name === mountAt('/etc/deepwatch')?.name);
  assert.equal(configVolume?.configMap?.name, 'deepwatch-config');
  // The root filesystem is read-only: the state directory must be a writable volume.
  const stateVolume = gatewayPod.volumes.find((v) => v.name === mountAt(gatewayConfig.state_dir)?.name);
  assert.ok(stateVolume?.emptyDir, `state_dir ${gatewayConfig.state_dir} is on an emptyDir`);

  // SIGTERM drains for drain_timeout; the kubelet must wait at least that long.
  const [, amount, unit] = /^(\d+)(s|m)$/.exec(gatewayConfig.drain_timeout);
  assert.ok(gatewayPod.terminationGracePeriodSeconds > Number(amount) * (unit === 'm' ? 60 : 1));
});

test('the gateway configuration routes the model to the per-version Services', () => {
  const [model] = gatewayConfig.models;
  assert.equal(model.name, 'deepseek');
  const weights = Object.fromEntries(model.versions.map((v) => [v.id, v.weight]));
  assert.deepEqual(weights, { v1: 95, v2: 5 });
  for (const version of model.versions) {
    for (const { url } of version.replicas) {
      const { hostname, port } = new URL(url);
      const [service, namespace] = hostname.split('.');
      const svc = find('Service', service);
      assert.equal(namespace, svc.metadata.namespace, url);
      assert.ok(svc.spec.ports.some((p) => p.port === Number(port)), `${url}: the Service has port ${port}`);
      assert.equal(svc.spec.selector.version, version.id, `${url} reaches version ${version.id} only`);
    }
  }
});

test('deepwatch accepts the gateway configuration (serve --check)', (t) => {
  if (!existsSync(BIN)) {
    t.skip(`no deepwatch binary at ${BIN}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dw-k8s-'));
  try {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, gatewayConfigText);
    const check = spawnSync(BIN, ['serve', '-c', file, '--check'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr + check.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deepwatch on that configuration serves the probe paths and the counter the HPA reads', async (t) => {
  if (!existsSync(BIN)) {
    t.skip(`no deepwatch binary at ${BIN}`);
    return;
  }
  // The same configuration on loopback ports chosen by the OS, with a temporary state directory
  // and replicas that refuse connections (the cluster's Service names do not resolve here).
  const { listeners, state_dir: stateDir, models, ...rest } = structuredClone(gatewayConfig);
  for (const version of models[0].versions) version.replicas = [{ url: 'http://127.0.0.1:1' }];
  const proc = await startGateway({ ...rest, models }, { ready: false });
  try {
    assert.equal((await fetch(`${proc.admin}/healthz`)).status, 200);
    // Ready or not (no replica answers here), but served.
    assert.ok([200, 503].includes((await fetch(`${proc.admin}/readyz`)).status));

    const answer = await postJson(`${proc.url}/v1/chat/completions`, {
      model: 'deepseek',
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.ok(answer.status >= 500, `no replica is reachable here: ${answer.status}`);
    // The series prometheus-adapter discovers, with the `model` label the scrape job copies to
    // `app` (prometheus-adapter.yaml).
    const series = await waitFor(
      async () => {
        const text = await (await fetch(`${proc.admin}/metrics`)).text();
        return text.split('\n').find((l) => l.startsWith('deepseek_requests_total{') && l.includes('model="deepseek"'));
      },
      { what: 'deepseek_requests_total{model="deepseek"}' },
    );
    assert.match(series, /code="\d+"/);
  } finally {
    await proc.stop();
  }
});

// --- Services and model replicas ------------------------------------------------------------

test('every Service selects the pods of a Deployment and targets ports they expose', () => {
  const deployments = all.filter((o) => o.kind === 'Deployment');
  for (const svc of all.filter((o) => o.kind === 'Service')) {
    const matched = deployments.filter((d) => selects(svc.spec.selector, d.spec.template.metadata.labels));
    assert.ok(matched.length > 0, `Service ${svc.metadata.name} selects some pods`);
    for (const d of matched) {
      const ports = d.spec.template.spec.containers.flatMap((c) => c.ports.flatMap((p) => [p.name, p.containerPort]));
      for (const port of svc.spec.ports) {
        assert.ok(ports.includes(port.targetPort), `Service ${svc.metadata.name} ${port.name} -> ${d.metadata.name}`);
      }
    }
  }
  // Each Deployment's selector matches its own pods and not the other version's.
  for (const d of deployments) {
    assert.ok(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name);
    for (const other of deployments.filter((o) => o !== d)) {
      const adopts = selects(d.spec.selector.matchLabels, other.spec.template.metadata.labels);
      assert.ok(!adopts, `${d.metadata.name} would adopt the pods of ${other.metadata.name}`);
    }
  }
  assert.deepEqual(find('Service', 'deepseek').spec.selector, { app: 'deepseek' });

  // The NetworkPolicy opens the API port of the gateway's pods to everyone.
  const policy = find('NetworkPolicy', 'deepwatch');
  assert.ok(selects(policy.spec.podSelector.matchLabels, gateway.spec.template.metadata.labels));
  const open = policy.spec.ingress.filter((rule) => !rule.from);
  assert.deepEqual(open.flatMap((rule) => rule.ports.map((p) => containerPort(gatewayContainer, p.port))), [8080]);
});

test('the model Deployments: app deepseek by version, one GPU, probes on /health of the served port', () => {
  const versions = { deepseek: 'v1', 'deepseek-v2': 'v2' };
  for (const [name, version] of Object.entries(versions)) {
    const d = find('Deployment', name);
    assert.deepEqual(d.spec.template.metadata.labels, { app: 'deepseek', version });
    assert.deepEqual(d.metadata.labels, { app: 'deepseek', version });
    const vllm = container(d, 'vllm');
    assert.equal(vllm.image, 'vllm/vllm-openai:latest');
    assert.ok(vllm.args.some((a) => /^--model=deepseek-ai\//.test(a)), 'a DeepSeek model');
    // deepwatch sends its model name upstream; vLLM must serve it under that name.
    assert.ok(vllm.args.includes(`--served-model-name=${gatewayConfig.models[0].name}`));
    assert.ok(vllm.args.includes('--port=8000'));
    assert.equal(containerPort(vllm, 'http'), 8000);
    assert.equal(String(vllm.resources.limits['nvidia.com/gpu']), '1');
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      assert.equal(vllm[probe].httpGet.path, '/health', `${name} ${probe}`);
      assert.equal(containerPort(vllm, vllm[probe].httpGet.port), 8000, `${name} ${probe}`);
    }
    // The startup probe gives the weights minutes to load before liveness can restart the pod.
    assert.ok(vllm.startupProbe.periodSeconds * vllm.startupProbe.failureThreshold >= 600);
  }
  // The HPA owns the stable Deployment's replica count.
  assert.equal(find('Deployment', 'deepseek').spec.replicas, undefined);
});

// --- Autoscaling ----------------------------------------------------------------------------

const hpa = find('HorizontalPodAutoscaler', 'deepseek-hpa');

test("the HPA is R3's: 2 to 10 replicas of deepseek on External inference_qps, 500 per replica", () => {
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'deepseek' });
  assert.equal(find('Deployment', 'deepseek').metadata.namespace, hpa.metadata.namespace);
  assert.equal(hpa.spec.minReplicas, 2);
  assert.equal(hpa.spec.maxReplicas, 10);
  assert.equal(hpa.spec.metrics.length, 1);
  const [metric] = hpa.spec.metrics;
  assert.equal(metric.type, 'External');
  assert.equal(metric.external.metric.name, 'inference_qps');
  assert.deepEqual(metric.external.metric.selector, { matchLabels: { app: 'deepseek' } });
  assert.equal(metric.external.target.type, 'AverageValue');
  assert.equal(String(metric.external.target.averageValue), '500');
  assert.equal(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 300);
});

test("prometheus-adapter serves inference_qps for the HPA's selector from deepwatch's counter", () => {
  const adapterConfig = parseYaml(find('ConfigMap', 'deepwatch-adapter-config').data['config.yaml']);
  assert.deepEqual(Object.keys(adapterConfig), ['externalRules']);
  const [rule] = adapterConfig.externalRules;
  assert.equal(adapterConfig.externalRules.length, 1);
  assert.deepEqual(Object.keys(rule).sort(), ['metricsQuery', 'name', 'resources', 'seriesQuery']);

  // Naming: the rule's series becomes the HPA's metric.
  const series = 'deepseek_requests_total';
  assert.match(rule.seriesQuery, new RegExp(`__name__="${series}"`));
  assert.equal(series.replace(new RegExp(rule.name.matches), rule.name.as), hpa.spec.metrics[0].external.metric.name);
  // Discovery only finds series that carry the labels the HPA selects on.
  for (const label of Object.keys(hpa.spec.metrics[0].external.metric.selector.matchLabels)) {
    assert.match(rule.seriesQuery, new RegExp(`${label}!=""`));
  }
  assert.deepEqual(rule.resources, { overrides: { namespace: { resource: 'namespace' } } });

  // Querying: rendered as the adapter renders an external query (GroupBy is empty there).
  const query = rule.metricsQuery
    .replaceAll('<<.Series>>', series)
    .replaceAll('<<.LabelMatchers>>', 'app="deepseek",namespace="deepseek"')
    .replaceAll('<<.GroupBy>>', '');
  assert.equal(query, 'sum(rate(deepseek_requests_total{app="deepseek",namespace="deepseek"}[1m])) by (app)');
});

test('the KEDA ScaledObject is the same scaling, and is never applied beside the HPA', () => {
  const scaled = find('ScaledObject', 'deepseek');
  assert.deepEqual(scaled.spec.scaleTargetRef, hpa.spec.scaleTargetRef);
  assert.equal(scaled.spec.minReplicaCount, hpa.spec.minReplicas);
  assert.equal(scaled.spec.maxReplicaCount, hpa.spec.maxReplicas);
  assert.equal(
    scaled.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds,
    hpa.spec.behavior.scaleDown.stabilizationWindowSeconds,
  );
  assert.equal(scaled.spec.triggers.length, 1);
  const [trigger] = scaled.spec.triggers;
  assert.equal(trigger.type, 'prometheus');
  assert.equal(trigger.metricType, 'AverageValue');
  assert.equal(trigger.metadata.threshold, '500');
  assert.match(trigger.metadata.query, /^sum\(rate\(deepseek_requests_total\{.*model="deepseek".*\}\[1m\]\)\)$/);

  const kustomization = parseYaml(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8'));
  const applied = new Set(kustomization.resources);
  assert.ok(!(applied.has('keda-scaledobject.yaml') && applied.has('hpa.yaml')), 'two HPAs for one Deployment');
});

// --- RBAC and the canary --------------------------------------------------------------------

test("RBAC: model-operator is the specification's role; deepwatch's account gets the controller's", () => {
  // R7, as written in the specification (namespace deepseek).
  const operator = find('Role', 'model-operator');
  assert.equal(operator.metadata.namespace, 'deepseek');
  assert.deepEqual(operator.rules, [
    { apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['deepseek.ai'], resources: ['models'], verbs: ['deploy', 'rollback'] },
  ]);

  const controller = find('Role', 'deepwatch-controller');
  assert.deepEqual(controller.rules, [
    {
      apiGroups: ['apps'],
      resources: ['deployments', 'deployments/scale'],
      verbs: ['get', 'list', 'watch', 'update', 'patch'],
    },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
    { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'list', 'update', 'patch'] },
    { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get', 'list', 'update', 'patch'] },
  ]);
  // Nothing that creates objects or reaches beyond the namespace.
  for (const rule of [...operator.rules, ...controller.rules]) {
    assert.ok(!rule.verbs.includes('*') && !rule.verbs.includes('create'), JSON.stringify(rule));
  }

  for (const binding of all.filter((o) => o.kind === 'RoleBinding')) {
    const role = find(binding.roleRef.kind, binding.roleRef.name);
    assert.equal(role.metadata.namespace, binding.metadata.namespace);
    for (const subject of binding.subjects.filter((s) => s.kind === 'ServiceAccount')) {
      assert.equal(find('ServiceAccount', subject.name).metadata.namespace, subject.namespace);
    }
  }
  const controllerBinding = find('RoleBinding', 'deepwatch-controller');
  assert.deepEqual(controllerBinding.subjects, [{ kind: 'ServiceAccount', name: 'deepwatch', namespace: 'deepseek' }]);
});

test('Istio sends 5% of the deepseek Service to v2; the subsets select the version pods', () => {
  const vs = find('VirtualService', 'deepseek');
  const rule = find('DestinationRule', 'deepseek');
  const svc = find('Service', 'deepseek');
  const host = `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`;
  assert.equal(vs.apiVersion, 'networking.istio.io/v1beta1');
  assert.deepEqual(vs.spec.hosts, [host]);
  assert.equal(rule.spec.host, host);

  assert.equal(vs.spec.http.length, 1);
  const routes = vs.spec.http[0].route;
  assert.equal(routes.reduce((sum, r) => sum + r.weight, 0), 100);
  assert.deepEqual(Object.fromEntries(routes.map((r) => [r.destination.subset, r.weight])), { v1: 95, v2: 5 });

  const deployments = all.filter((o) => o.kind === 'Deployment');
  const pods = deployments.filter((d) => selects(svc.spec.selector, d.spec.template.metadata.labels));
  for (const { destination } of routes) {
    assert.equal(destination.host, host);
    const subset = rule.spec.subsets.find((s) => s.name === destination.subset);
    assert.ok(subset, `subset ${destination.subset} is defined`);
    const matched = pods.filter((d) => selects(subset.labels, d.spec.template.metadata.labels));
    assert.equal(matched.length, 1, `subset ${subset.name} selects one Deployment's pods`);
  }
});
