// Schemas of Kubernetes objects for the manifest tests (k8s_manifests.test.mjs, k8s_multi.test.mjs):
// the model classes of the `kubernetes-models` packages, which validate a document against the
// API's OpenAPI schema, and the field names of their TypeScript declarations, which catch what
// those schemas let through.
//
// The schemas these packages compile leave objects open (no additionalProperties: false), so
// validate() lets a misspelt field such as `readinesProbe` through, while `kubectl apply`
// rejects it (strict field validation) or the field is silently ignored. Their TypeScript
// declarations do list every field, so `unknownFields` below reads them to catch that too.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';

const require = createRequire(import.meta.url);

// apiVersion/kind -> the module of its model class (each module exports the class by kind).
const MODEL_MODULES = {
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Service': 'kubernetes-models/v1/Service',
  'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'apps/v1/StatefulSet': 'kubernetes-models/apps/v1/StatefulSet',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  'rbac.authorization.k8s.io/v1/Role': 'kubernetes-models/rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding':
    'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding',
  'keda.sh/v1alpha1/ScaledObject': '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
  'networking.istio.io/v1beta1/VirtualService': '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService',
  'networking.istio.io/v1beta1/DestinationRule': '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule',
};

export async function modelFor(apiVersion, kind) {
  const specifier = MODEL_MODULES[`${apiVersion}/${kind}`];
  if (!specifier) return null;
  const Model = (await import(specifier))[kind];
  const declarations = require.resolve(specifier).replace(/\.js$/, '.d.ts');
  return { Model, type: interfaceIn(declarations) };
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
export function unknownFields(value, type, path = '', found = []) {
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
