// The overview's time series: a ring of metric snapshots (one per poll, the last ten minutes)
// and the chart views derived from it. Keeping the snapshots rather than chart arrays lets the
// model filter change without losing history, and lets counters become rates from the
// difference of two neighbouring polls. Pure: no DOM.

export const POLL_MS = 2000;
export const HISTORY_MS = 10 * 60 * 1000;

export class Ring {
  constructor(capacity) {
    this.capacity = capacity;
    this.items = [];
  }
  push(item) {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  get length() {
    return this.items.length;
  }
}

// The metric namespace (observe.namespace, default "deepseek"), from <ns>_build_info.
export function namespaceOf(byName) {
  for (const name of byName.keys()) {
    if (name.endsWith('_build_info')) return name.slice(0, -'_build_info'.length);
  }
  return 'deepseek';
}

function seconds(window) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(window ?? '');
  if (!m) return Infinity;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
}

// The shortest window among a family's samples: the liveliest view of a ratio or percentile.
function shortestWindow(samples) {
  let best = null;
  for (const s of samples) {
    const w = s.labels.window;
    if (w !== undefined && (best === null || seconds(w) < seconds(best))) best = w;
  }
  return best;
}

const finite = (v) => (Number.isFinite(v) ? v : null);

function pick(snapshot, name, model, extra = () => true) {
  const all = snapshot.metrics.get(`${snapshot.ns}_${name}`) ?? [];
  return all.filter((s) => (!model || s.labels.model === model) && extra(s));
}

function sum(samples) {
  if (samples.length === 0) return null;
  let total = 0;
  for (const s of samples) if (Number.isFinite(s.value)) total += s.value;
  return total;
}

function max(samples) {
  let best = null;
  for (const s of samples) if (Number.isFinite(s.value) && (best === null || s.value > best)) best = s.value;
  return best;
}

function mean(samples) {
  const values = samples.map((s) => s.value).filter(Number.isFinite);
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

const scale = (v, k) => (v === null ? null : v * k);

// Requests and errors from the request counter: [total, not 2xx].
function requestCounts(snapshot, model) {
  const samples = pick(snapshot, 'requests_total', model);
  if (samples.length === 0) return null;
  let total = 0;
  let errors = 0;
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    total += s.value;
    if (!String(s.labels.code ?? '').startsWith('2')) errors += s.value;
  }
  return [total, errors];
}

// Each chart: its series' i18n keys and how one poll (with the one before) becomes their values.
export const CHARTS = {
  qps: {
    series: ['series.qps'],
    derive: (now, _prev, model) => [finite(sum(pick(now, 'inference_qps', model)))],
  },
  latency: {
    series: ['series.p50', 'series.p95', 'series.p99'],
    derive: (now, _prev, model) => {
      const window = shortestWindow(pick(now, 'latency_p99_seconds', model));
      return ['p50', 'p95', 'p99'].map((q) =>
        scale(max(pick(now, `latency_${q}_seconds`, model, (s) => s.labels.window === window)), 1000));
    },
  },
  errors: {
    series: ['series.error_ratio', 'series.upstream_errors'],
    derive: (now, prev, model) => {
      if (!prev) return [null, null];
      const a = requestCounts(prev, model);
      const b = requestCounts(now, model);
      let ratio = null;
      if (a && b && b[0] >= a[0] && b[1] >= a[1]) ratio = b[0] > a[0] ? (100 * (b[1] - a[1])) / (b[0] - a[0]) : 0;
      const ua = sum(pick(prev, 'upstream_errors_total', null));
      const ub = sum(pick(now, 'upstream_errors_total', null));
      const dt = now.t - prev.t;
      const rate = ua !== null && ub !== null && ub >= ua && dt > 0 ? (ub - ua) / dt : null;
      return [ratio, rate];
    },
  },
  drift: {
    series: ['series.kl', 'series.psi', 'series.label_drift'],
    derive: (now, _prev, model) => [
      max(pick(now, 'input_kl_divergence', model)),
      max(pick(now, 'input_psi', model)),
      max(pick(now, 'output_label_drift_index', model)),
    ],
  },
  confidence: {
    series: ['series.mean_confidence', 'series.low_confidence'],
    derive: (now, _prev, model) => {
      const window = shortestWindow(pick(now, 'output_mean_confidence', model));
      const inWindow = (s) => s.labels.window === window;
      return [
        finite(mean(pick(now, 'output_mean_confidence', model, inWindow))),
        finite(mean(pick(now, 'output_low_confidence_ratio', model, inWindow))),
      ];
    },
  },
  resources: {
    series: ['series.gpu', 'series.kv_cache', 'series.cpu'],
    derive: (now, _prev, model) => {
      // GPUs as the replicas report them (DCGM, engines) and, for all models, the host's (NVML).
      const gpu = [
        ...pick(now, 'resource_gpu_utilization_ratio', model),
        ...(model ? [] : pick(now, 'resource_host_gpu_utilization_ratio', null)),
      ];
      return [
        scale(mean(gpu), 100),
        scale(mean(pick(now, 'resource_kv_cache_usage_ratio', model)), 100),
        scale(mean(pick(now, 'resource_host_cpu_utilization_ratio', null)), 100),
      ];
    },
  },
};

// uPlot's data for a chart: [times, ...one array per series], from every snapshot in the ring.
export function chartData(ring, chart, model) {
  const spec = CHARTS[chart];
  const xs = [];
  const ys = spec.series.map(() => []);
  let prev = null;
  for (const snapshot of ring.items) {
    const values = spec.derive(snapshot, prev, model);
    xs.push(snapshot.t);
    values.forEach((v, i) => ys[i].push(v));
    prev = snapshot;
  }
  return [xs, ...ys];
}

// How many polls have a value in at least one series (what the page exposes as data-points).
export function pointsWithData(data) {
  let n = 0;
  for (let i = 0; i < data[0].length; i++) {
    if (data.slice(1).some((ys) => ys[i] !== null && ys[i] !== undefined)) n++;
  }
  return n;
}
