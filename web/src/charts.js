// The overview's live charts on uPlot (web/package.json pins it; the build copies its dist file
// into vendor/). Each chart is a <figure id="chart-NAME"> whose data-points attribute says how
// many polls have data, so a person or a test can tell an empty chart from a live one.

import { CHARTS, chartData, pointsWithData } from './series.js';
import { t } from './i18n.js';

const COLORS = ['#2563eb', '#d97706', '#dc2626', '#059669'];
const HEIGHT = 190;

function valueText(_u, v) {
  return v === null || v === undefined ? '–' : String(Number(v.toPrecision(3)));
}

export class Charts {
  constructor(root) {
    this.root = root;
    this.plots = new Map();
  }

  // (Re)creates every chart, in the current language.
  build() {
    for (const plot of this.plots.values()) plot.destroy();
    this.plots.clear();
    for (const [name, spec] of Object.entries(CHARTS)) {
      const figure = this.root.querySelector(`#chart-${name}`);
      const target = figure.querySelector('.plot');
      target.replaceChildren();
      if (typeof window.uPlot !== 'function') {
        target.textContent = t('chart.no_library');
        continue;
      }
      const options = {
        width: Math.max(280, target.clientWidth || 420),
        height: HEIGHT,
        scales: { x: { time: true } },
        series: [
          {},
          ...spec.series.map((key, i) => ({ label: t(key), stroke: COLORS[i % COLORS.length], width: 2, value: valueText })),
        ],
        axes: [{}, { size: 56 }],
        legend: { live: true },
      };
      this.plots.set(name, new window.uPlot(options, spec.series.length ? [[], ...spec.series.map(() => [])] : [[]], target));
    }
  }

  // Redraws every chart from the ring of snapshots, for one model or all ("").
  update(ring, model) {
    for (const name of Object.keys(CHARTS)) {
      const data = chartData(ring, name, model);
      const figure = this.root.querySelector(`#chart-${name}`);
      figure.dataset.points = String(pointsWithData(data));
      this.plots.get(name)?.setData(data);
    }
  }

  // Fits the charts to their containers (after a resize or when the view becomes visible).
  resize() {
    for (const [name, plot] of this.plots) {
      const target = this.root.querySelector(`#chart-${name} .plot`);
      const width = target.clientWidth;
      if (width > 0 && Math.abs(width - plot.width) > 2) plot.setSize({ width, height: HEIGHT });
    }
  }
}
