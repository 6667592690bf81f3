// History charts for the dashboard: uPlot (window.uPlot, loaded by a classic script before the modules) drawing a
// preset's samples from GET /prebuilds/presets/:id/history. Kept apart from dashboard.js so that the page's logic
// does not depend on how a chart is drawn; nothing here fetches.

/** The windows the API offers, as the page names them. */
export const HISTORY_WINDOWS = {
  '1h': { label: 'Last hour' },
  '24h': { label: 'Last 24 hours' },
  '7d': { label: 'Last 7 days' },
};

/**
 * What each chart draws. Every series differs by more than its colour (dash, fill or bar side), and the legend names
 * it, so that a reader who cannot tell the colours apart still can tell the lines apart.
 */
const SERIES = {
  desired: { label: 'Desired', color: '--chart-desired', dash: [6, 4], width: 2 },
  eligible: { label: 'Eligible', color: '--chart-eligible', fill: '--chart-eligible-fill', width: 2 },
  running: { label: 'Running', color: '--chart-running', dash: [2, 3], width: 2 },
  starting: { label: 'Starting', color: '--chart-starting', dash: [10, 3, 2, 3], width: 2 },
  claims: { label: 'Claims', color: '--chart-claims', bars: -1 },
  misses: { label: 'Misses', color: '--chart-misses', bars: 1 },
};

/** Desired comes last: drawn on top, its dashes stay visible where the pool is full and the lines coincide. */
export const CHART_KINDS = {
  card: { fields: ['eligible', 'desired'], height: 130, axisFont: 11 },
  pool: { fields: ['eligible', 'running', 'starting', 'desired'], height: 220, axisFont: 12 },
  demand: { fields: ['claims', 'misses'], height: 170, axisFont: 12 },
};

const number = new Intl.NumberFormat();
const shortTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayTime = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });

/** A bucket's start as the reader wants it: the time of day, with the weekday once the window spans days. */
export function bucketTime(history, seconds) {
  const date = new Date(seconds * 1000);
  return history.window === '7d' ? dayTime.format(date) : shortTime.format(date);
}

export function describeResolution(seconds) {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** Claims, misses and the hit rate (claims / (claims + misses)) over the answer's window; rate null when none. */
export function hitRate(history) {
  let claims = 0;
  let misses = 0;
  for (const sample of history.samples) {
    claims += sample.claims;
    misses += sample.misses;
  }
  const total = claims + misses;
  return { claims, misses, rate: total === 0 ? null : claims / total };
}

export function formatRate(rate) {
  return rate === null ? '—' : `${Math.round(rate * 100)}%`;
}

/**
 * The samples as uPlot's aligned columns, x in UNIX seconds, and for each x the index of the sample it shows (null
 * for a break). A bucket that no cycle sampled is absent from the answer: the line breaks there instead of bridging
 * time nobody measured. With `holdSteps` (step lines), a sample that no contiguous one follows gets a second point
 * at its bucket's end (or now, for the bucket in progress), so that it is drawn across its bucket rather than as a
 * lone point, and a null between it and the next, which breaks the line; bars need neither.
 */
export function alignedData(history, fields, holdSteps) {
  const step = history.resolutionSeconds;
  const now = Date.parse(history.to) / 1000;
  const xs = [];
  const columns = fields.map(() => []);
  const source = [];
  const push = (x, values, from) => {
    xs.push(x);
    columns.forEach((column, index) => column.push(values ? values[fields[index]] : null));
    source.push(from);
  };
  history.samples.forEach((sample, index) => {
    const at = Date.parse(sample.at) / 1000;
    const start = xs.length;
    push(at, sample, start);
    const following = history.samples[index + 1];
    const next = following ? Date.parse(following.at) / 1000 : null;
    if (next !== null && next - at <= step * 1.5) return;
    let end = at;
    if (holdSteps) {
      end = Math.min(at + step, next ?? now);
      if (end > at) push(end, sample, start);
      else end = at;
    }
    if (holdSteps && next !== null && next > end) push((end + next) / 2, null, null);
  });
  return { data: [xs, ...columns], source };
}

const counted = (count, word) => `${count} ${word}${count === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;

function range(values) {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return min === max ? `${min}` : `${min} to ${max}`;
}

/** The text alternative of a chart: what a sighted reader takes from it at a glance. */
export function summarise(kind, history) {
  const span = HISTORY_WINDOWS[history.window]?.label ?? history.window;
  const samples = history.samples;
  const every = describeResolution(history.resolutionSeconds);
  if (samples.length === 0)
    return `${span}: no samples yet (one is written after each full reconcile cycle).`;
  const last = samples[samples.length - 1];
  const count = `${counted(samples.length, 'sample')}, one per ${every}`;
  const at = bucketTime(history, Date.parse(last.at) / 1000);
  const fields = CHART_KINDS[kind].fields;
  if (kind === 'demand') {
    const { claims, misses, rate } = hitRate(history);
    return (
      `${span} (${count}): ${counted(claims, 'claim')} and ${counted(misses, 'miss')} in all, hit rate ` +
      `${formatRate(rate)}; latest bucket (${at}): ${counted(last.claims, 'claim')}, ` +
      `${counted(last.misses, 'miss')}.`
    );
  }
  const latest = fields.map((field) => `${SERIES[field].label.toLowerCase()} ${last[field]}`).join(', ');
  const spans = fields
    .map((field) => `${SERIES[field].label.toLowerCase()} ${range(samples.map((s) => s[field]))}`)
    .join(', ');
  return `${span} (${count}): latest (${at}) ${latest}; over the window ${spans}.`;
}

function cssColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Counts are whole numbers: ticks at 1, 2, 5, 10, … only. */
const COUNT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

/**
 * One chart in `host`, its legend in `legendHost`. Drawn on the first `update` that brings data, then updated in
 * place (setData), resized with its container, and redrawn only when the samples or the bucket at the window's end
 * changed, so that a refresh bringing nothing new leaves the page alone.
 */
export class HistoryChart {
  constructor(host, legendHost, kind) {
    this.host = host;
    this.legendHost = legendHost;
    this.kind = kind;
    this.plot = null;
    this.history = null;
    /** Per x index, the index of the sample shown there (see alignedData); and where the samples start. */
    this.source = [];
    this.starts = [];
    this.key = '';
    this.width = 0;
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(host);
  }

  /** Draws `history` (an answer of the history endpoint); false when the chart library is not there. */
  update(history) {
    const label = summarise(this.kind, history);
    if (this.host.getAttribute('aria-label') !== label) this.host.setAttribute('aria-label', label);
    const key = JSON.stringify([
      history.window,
      history.samples,
      Math.floor(Date.parse(history.to) / 1000 / history.resolutionSeconds),
    ]);
    if (key === this.key && this.plot) return true;
    const uPlot = window.uPlot;
    if (!uPlot) return false;
    this.key = key;
    this.history = history;
    const aligned = alignedData(history, CHART_KINDS[this.kind].fields, this.kind !== 'demand');
    this.source = aligned.source;
    this.starts = aligned.source.filter((from, index) => from === index);
    const data = aligned.data;
    if (this.plot) {
      this.plot.setData(data);
    } else {
      this.width = this.host.clientWidth;
      this.plot = new uPlot(this.options(uPlot), data, this.host);
    }
    return true;
  }

  resize() {
    const width = this.host.clientWidth;
    if (!this.plot || width === this.width || width === 0) return;
    this.width = width;
    this.plot.setSize({ width, height: CHART_KINDS[this.kind].height });
  }

  destroy() {
    this.resizer.disconnect();
    this.plot?.destroy();
    this.plot = null;
    this.key = '';
  }

  options(uPlot) {
    const { fields, height, axisFont } = CHART_KINDS[this.kind];
    const axis = cssColor('--chart-axis');
    const grid = cssColor('--chart-grid');
    const font = `${axisFont}px system-ui, sans-serif`;
    const stepped = uPlot.paths.stepped({ align: 1 });
    // Off the chart, the legend shows the latest sample (what the card's numbers are compared with); over it, the
    // bucket under the pointer.
    const shown = (u, _raw, seriesIndex, index) => {
      const latest = index === null || index === undefined;
      const at = latest ? (this.starts[this.starts.length - 1] ?? null) : this.source[index];
      if (latest && at === null) return '—';
      if (at === null || at === undefined) return 'no sample';
      const value = u.data[seriesIndex][at];
      if (value === null || value === undefined) return 'no sample';
      if (seriesIndex === 0) {
        const time = bucketTime(this.history, value);
        return latest ? `${time} (latest)` : time;
      }
      return number.format(value);
    };
    const series = fields.map((field) => {
      const spec = SERIES[field];
      const color = cssColor(spec.color);
      const options = { label: spec.label, stroke: color, width: spec.width ?? 1, value: shown };
      if (spec.bars !== undefined) {
        options.fill = color;
        options.paths = uPlot.paths.bars({ size: [0.4, 14, 2], align: spec.bars });
        options.points = { show: false };
      } else {
        options.paths = stepped;
        // Dots at the samples while there are only a few (a pool sampled for a minute or two, whose steps are a few
        // pixels wide); over a fuller window they would hide the steps.
        options.points = {
          size: 5,
          show: () => this.starts.length <= 3,
          filter: (_u, _series, show) => (show ? this.starts : null),
        };
        if (spec.dash) options.dash = spec.dash;
        if (spec.fill) options.fill = cssColor(spec.fill);
      }
      return options;
    });
    return {
      width: this.width,
      height,
      class: `history-plot-${this.kind}`,
      series: [{ label: 'At', value: shown }, ...series],
      scales: {
        // The whole window, even when the samples cover only its end (a pool created ten minutes ago).
        x: {
          time: true,
          range: () => [Date.parse(this.history.from) / 1000, Date.parse(this.history.to) / 1000],
        },
        y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 0) * 1.15] },
      },
      axes: [
        {
          stroke: axis,
          font,
          space: 64,
          size: axisFont * 2.5,
          // One line per tick (uPlot's default adds the date under some), in the reader's locale.
          values: (_u, splits) => splits.map((value) => bucketTime(this.history, value)),
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
        },
        {
          stroke: axis,
          font,
          size: 36,
          incrs: COUNT_INCRS,
          values: (_u, splits) => splits.map((value) => number.format(value)),
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
        },
      ],
      legend: { live: true, mount: (_u, table) => this.legendHost.replaceChildren(table) },
      cursor: {
        // Hovering reads values; there is no zoom and no click-to-hide, which a keyboard could not undo.
        drag: { x: false, y: false, setScale: false },
        bind: { click: () => null, dblclick: () => null },
        points: { size: 7 },
      },
    };
  }
}
