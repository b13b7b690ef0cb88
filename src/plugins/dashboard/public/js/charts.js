// Two small chart kinds, drawn directly: stacked columns over days (SVG) and
// horizontal bars for rankings (plain elements, so they reflow on a phone).
import { h, s } from './dom.js';

/**
 * Stacked columns. rows: [{ label, values: { key: n } }], series: [{ key, label, cls }].
 * Drawn again at the width it is shown at, so one SVG unit is one CSS pixel and
 * its labels keep their size on a phone instead of shrinking with the chart.
 */
export function columns(rows, series, opts = {}) {
  const legend = h(
    'figcaption.legend',
    series.map((se) => h('span', h(`i.swatch.${se.cls}`), se.label)),
  );
  let drawn = 640;
  const figure = h('figure.chart-box', columnsSvg(rows, series, drawn, opts), legend);
  new ResizeObserver(([entry]) => {
    const w = Math.floor(entry.contentRect.width);
    if (w > 0 && w !== drawn) {
      drawn = w;
      figure.firstChild.replaceWith(columnsSvg(rows, series, w, opts));
    }
  }).observe(figure);
  return figure;
}

function columnsSvg(rows, series, W, { format = String, height = 180, title = '' }) {
  const H = height;
  const pad = { l: 44, r: 8, t: 10, b: 24 };
  const totals = rows.map((r) => series.reduce((sum, se) => sum + (Number(r.values[se.key]) || 0), 0));
  const max = niceMax(Math.max(...totals) || 1);
  const slot = (W - pad.l - pad.r) / Math.max(rows.length, 1);
  const bw = Math.max(2, Math.min(28, slot * 0.7));
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
  for (const f of [0, 0.5, 1]) {
    svg.append(s('line', { x1: pad.l, x2: W - pad.r, y1: y(max * f), y2: y(max * f), class: 'grid' }));
    svg.append(s('text', { x: pad.l - 6, y: y(max * f) + 4, 'text-anchor': 'end', class: 'axis' }, format(max * f)));
  }
  // About one day label per 64 px, counted back from the newest day so it is always labelled and none overlap.
  const every = Math.ceil(rows.length / Math.max(2, Math.floor((W - pad.l) / 64)));
  const last = rows.length - 1;
  rows.forEach((r, i) => {
    const x = pad.l + slot * i + (slot - bw) / 2;
    let base = 0;
    const g = s(
      'g',
      {},
      s('title', {}, `${r.label}: ${series.map((se) => `${se.label} ${format(r.values[se.key] || 0)}`).join(', ')}`),
    );
    for (const se of series) {
      const v = Number(r.values[se.key]) || 0;
      if (v > 0)
        g.append(
          s('rect', {
            x,
            width: bw,
            y: y(base + v),
            height: Math.max(0.5, y(base) - y(base + v)),
            class: `bar ${se.cls}`,
          }),
        );
      base += v;
    }
    svg.append(g);
    if ((last - i) % every === 0)
      svg.append(s('text', { x: x + bw / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis' }, r.label));
  });
  return svg;
}

/** Horizontal bars: items [{ label, value, note?, limit? }] — limit draws a budget marker. */
export function bars(items, { format = String } = {}) {
  const max = Math.max(...items.map((i) => Math.max(i.value, i.limit || 0))) || 1;
  return h(
    'ul.hbars',
    items.map((it) => {
      const fill = h('span.fill');
      fill.style.width = `${(100 * it.value) / max}%`;
      const track = h('span.track', fill);
      if (it.limit) {
        const mark = h('span.limit', { title: `budget ${format(it.limit)}` });
        mark.style.left = `${(100 * it.limit) / max}%`;
        track.append(mark);
        if (it.value > it.limit) fill.classList.add('over');
      }
      return h(
        'li',
        h('span.name', { title: it.label }, it.label),
        track,
        h('span.num', format(it.value)),
        it.note ? h('span.note.muted', it.note) : null,
      );
    }),
  );
}

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
