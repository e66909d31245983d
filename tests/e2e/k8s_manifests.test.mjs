// The Kubernetes manifests in deploy/k8s/ against the schemas of the API server and of the CRDs
// they use (KEDA, Istio), through the `kubernetes-models` packages, plus the facts that make them
// work together: the HPA of R3 and the metric prometheus-adapter serves it, the specification's
// RBAC role (R7), the 95/5 canary (R4), Services that select their pods, probes that hit ports
// and paths the containers serve, and a gateway configuration that deepwatch itself accepts.
//
// The schemas and the check for undeclared fields are in k8s_schema.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { BIN, postJson, startGateway, waitFor } from '../lib/harness.mjs';
import { modelFor, unknownFields } from './k8s_schema.mjs';

const K8S_DIR = fileURLToPath(new URL('../../deploy/k8s/', import.meta.url));

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
