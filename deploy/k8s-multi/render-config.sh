#!/bin/sh
# Renders the gateway's configuration before deepwatch starts (the init container
# `render-config` of gateway-patch.yaml runs it with the curl image's busybox sh).
#
# Kubernetes gives a container its pod's name and its node's name through the downward API, but
# not the node's labels, and deepwatch expands no variables in its configuration. So this script
# asks the API server for the node (RBAC: ClusterRole deepwatch-node-reader, `get` on nodes),
# takes its topology.kubernetes.io/zone label, and writes the template with the zone and the pod's
# name in place of its placeholders.
#
# Environment: NODE_NAME and POD_NAME (required, from the downward API); SA_DIR, API_URL,
# TEMPLATE and OUT have in-cluster defaults, which tests/e2e/k8s_multi.test.mjs overrides to run
# this very script against a stub curl.
set -eu

: "${NODE_NAME:?NODE_NAME must be set (downward API: spec.nodeName)}"
: "${POD_NAME:?POD_NAME must be set (downward API: metadata.name)}"
SA_DIR=${SA_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
API_URL=${API_URL:-https://kubernetes.default.svc}
TEMPLATE=${TEMPLATE:-/etc/deepwatch/config.yaml.tmpl}
OUT=${OUT:-/run/deepwatch/config.yaml}

fail() {
  echo "render-config: $*" >&2
  exit 1
}

# Names the substitution below may write unquoted into sed and YAML: a DNS subdomain for the
# pod, a label value (or nothing) for the zone. The API server enforces both; checked again so
# that nothing else can reach the configuration.
printf '%s' "$POD_NAME" | grep -Eqx '[a-z0-9]([-a-z0-9.]*[a-z0-9])?' ||
  fail "POD_NAME '$POD_NAME' is not a pod name"

# The token goes to curl on its standard input (-K -), not on its command line, where every
# process of the pod could read it.
token=$(cat "$SA_DIR/token") || fail "no service account token in $SA_DIR"
node=$(printf 'header = "Authorization: Bearer %s"\n' "$token" |
  curl -K - -fsS --max-time 10 --retry 5 --retry-all-errors --retry-max-time 60 \
    --cacert "$SA_DIR/ca.crt" "$API_URL/api/v1/nodes/$NODE_NAME") ||
  fail "cannot read node $NODE_NAME from $API_URL (RBAC: ClusterRole deepwatch-node-reader)"

# metadata.labels is the first "labels" object of a Node and nests nothing (label values are
# strings without braces or quotes), so the zone is the value of one key inside it. Reading it
# there, not anywhere in the document, ignores an annotation that mentions the same key.
labels=$(printf '%s' "$node" | tr -d '\n' | grep -o '"labels": *{[^}]*}' | head -n 1)
[ -n "$labels" ] || fail "node $NODE_NAME: no labels in the API's answer"
zone=$(printf '%s' "$labels" |
  sed -n 's/.*"topology\.kubernetes\.io\/zone": *"\([^"]*\)".*/\1/p')
if [ -n "$zone" ]; then
  printf '%s' "$zone" | grep -Eqx '[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?' ||
    fail "node $NODE_NAME: zone '$zone' is not a label value"
else
  echo "render-config: node $NODE_NAME has no topology.kubernetes.io/zone label; no zone preference" >&2
fi

mkdir -p "$(dirname "$OUT")"
# The placeholders are literal text in the template, hence the single quotes.
# shellcheck disable=SC2016
sed -e 's|\${ZONE}|'"$zone"'|g' -e 's|\${POD_NAME}|'"$POD_NAME"'|g' "$TEMPLATE" >"$OUT.tmp" ||
  fail "cannot render $TEMPLATE"
# A placeholder this script does not know would reach deepwatch as a literal string.
# shellcheck disable=SC2016
if grep -n '\${' "$OUT.tmp" >&2; then
  rm -f "$OUT.tmp"
  fail "$TEMPLATE has placeholders other than ZONE and POD_NAME (lines above)"
fi
mv "$OUT.tmp" "$OUT"
echo "render-config: wrote $OUT (zone '$zone', cluster name '$POD_NAME')" >&2
