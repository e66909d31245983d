// Parses the Prometheus text exposition (0.0.4) that the admin listener's /metrics serves into
// samples {name, labels, value}. Comments, HELP and TYPE lines are skipped; label values are
// unescaped (\\, \", \n). Pure: no DOM, so Node's test runner can load it too.

function parseLabels(text, start) {
  // text[start] === '{'; returns [labels, index after '}'].
  const labels = {};
  let i = start + 1;
  while (i < text.length && text[i] !== '}') {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') break;
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error('label without "="');
    const key = text.slice(i, eq).trim();
    i = eq + 1;
    if (text[i] !== '"') throw new Error(`label ${key} without a quoted value`);
    i++;
    let value = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) {
        const next = text[i + 1];
        value += next === 'n' ? '\n' : next;
        i += 2;
      } else {
        value += text[i++];
      }
    }
    if (text[i] !== '"') throw new Error(`label ${key} is not closed`);
    labels[key] = value;
    i++;
  }
  if (text[i] !== '}') throw new Error('labels are not closed');
  return [labels, i + 1];
}

function parseValue(text) {
  switch (text) {
    case 'NaN': return NaN;
    case '+Inf': case 'Inf': return Infinity;
    case '-Inf': return -Infinity;
    default: return Number(text);
  }
}

// Returns [{name, labels, value}] in exposition order; lines that do not parse are skipped
// (counted in `skipped`), so one odd line never blanks the dashboard.
export function parsePrometheusText(text) {
  const samples = [];
  let skipped = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      let i = 0;
      while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++;
      const name = line.slice(0, i);
      let labels = {};
      if (line[i] === '{') [labels, i] = parseLabels(line, i);
      const rest = line.slice(i).trim().split(/\s+/);
      const value = parseValue(rest[0]);
      if (name === '' || rest[0] === undefined || (Number.isNaN(value) && rest[0] !== 'NaN')) throw new Error('no value');
      samples.push({ name, labels, value });
    } catch {
      skipped++;
    }
  }
  samples.skipped = skipped;
  return samples;
}

// Groups samples by metric name: {name: [{labels, value}]}, for quick lookups per poll.
export function byName(samples) {
  const out = new Map();
  for (const s of samples) {
    if (!out.has(s.name)) out.set(s.name, []);
    out.get(s.name).push(s);
  }
  return out;
}
