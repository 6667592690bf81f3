// The prebuilds dashboard: plain DOM, no framework, no build step. It polls GET /prebuilds/status every 2 s and
// updates the page in place (cards keyed by preset id, text set only when it changed), so nothing flickers and
// focus stays where it is. Actions are shown only when the signed-in user's permissions allow them. Each card also
// charts its preset's history (GET /prebuilds/presets/:id/history) over the window the operator picks, fetched
// again only when a reconcile cycle has completed since (a cycle is what writes a sample) or the window changes.

import { describeResolution, formatRate, HISTORY_WINDOWS, HistoryChart, hitRate } from './charts.js';

const API = '/api/v2';
const TOKEN_KEY = 'prebuilds-dashboard-token';
const WINDOW_KEY = 'prebuilds-dashboard-window';
const REFRESH_MS = 2000;

const NUMBERS = [
  ['desired', 'Desired', 'number-primary'],
  ['actual', 'Running', 'number-primary'],
  ['eligible', 'Eligible', 'number-primary'],
  ['failed', 'Failed', ''],
  ['stopped', 'Stopped', ''],
  ['starting', 'Starting', ''],
  ['stopping', 'Stopping', ''],
  ['deleting', 'Deleting', ''],
  ['expired', 'Expired', ''],
  ['extraneous', 'Extra', ''],
];
/** Numbers shown in red when above zero: prebuilds an operator has to look at. */
const ALERT_NUMBERS = new Set(['failed', 'stopped']);

const byId = (id) => document.getElementById(id);
/** Own keys only: a stored 'constructor' or '__proto__' is no window. */
const isHistoryWindow = (value) => value !== null && Object.hasOwn(HISTORY_WINDOWS, value);
const ui = {
  identity: byId('identity'),
  identityText: byId('identity-text'),
  signOut: byId('sign-out'),
  main: byId('main'),
  signin: byId('signin'),
  signinForm: byId('signin-form'),
  signinSubmit: byId('signin-submit'),
  signinError: byId('signin-error'),
  token: byId('token'),
  app: byId('app'),
  pools: byId('pools'),
  unreachable: byId('unreachable'),
  forbidden: byId('forbidden'),
  loopState: byId('loop-state'),
  lastCycle: byId('last-cycle'),
  updatedAt: byId('updated-at'),
  reconcile: byId('reconcile'),
  pauseToggle: byId('pause-toggle'),
  toolbarResult: byId('toolbar-result'),
  reconcileResult: byId('reconcile-result'),
  reconcileSummary: byId('reconcile-summary'),
  reconcileRows: byId('reconcile-rows'),
  reconcileClose: byId('reconcile-result-close'),
  empty: byId('empty'),
  templates: byId('templates'),
  windowSwitches: [byId('window-switch'), byId('dialog-window-switch')],
  dialog: byId('history-dialog'),
  dialogTitle: byId('history-dialog-title'),
  dialogSubtitle: byId('history-dialog-subtitle'),
  dialogClose: byId('history-dialog-close'),
  dialogHitRate: byId('history-dialog-hit-rate'),
  dialogState: byId('history-dialog-state'),
  dialogPool: byId('history-pool-chart'),
  dialogPoolLegend: byId('history-pool-legend'),
  dialogDemand: byId('history-demand-chart'),
  dialogDemandLegend: byId('history-demand-legend'),
  dialogRows: byId('history-dialog-rows'),
};

const session = {
  token: null,
  me: null,
  /** Bumped on sign-in and sign-out: answers to requests of an earlier session are dropped. */
  epoch: 0,
  timer: 0,
  polling: false,
  pollAgain: false,
  status: null,
  lastOkAt: null,
  /** The history window the charts show ('1h', '24h', '7d'), kept for the tab like the token. */
  window: isHistoryWindow(sessionStorage.getItem(WINDOW_KEY)) ? sessionStorage.getItem(WINDOW_KEY) : '1h',
};

/** The wider view: the card it shows (null when closed) and its two charts. */
const dialog = { card: null, pool: null, demand: null };

/** templateId → { root, title, count, invalidate, result, cards } and presetId → card parts. */
const groups = new Map();
const cards = new Map();

// ---------------------------------------------------------------------------------------------------------------
// Small DOM helpers

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children); // strings become text nodes: nothing from the API is ever parsed as markup
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setHidden(node, hidden) {
  if (node.hidden !== hidden) node.hidden = hidden;
}

function setClass(node, className) {
  if (node.className !== className) node.className = className;
}

function setAttr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

/** Puts `node` at `index` in `parent`, touching the DOM only when it is not there already. */
function placeAt(parent, node, index) {
  const current = parent.children[index] ?? null;
  if (current !== node) parent.insertBefore(node, current);
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const clockTime = (value) => timeFormat.format(new Date(value));

function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

const plural = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`;

// ---------------------------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${session.token}` };
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`${API}${path}`, init);
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'no answer from the server');
  }
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // not JSON (a proxy's error page, say): the status code still tells what happened
  }
  if (!response.ok) {
    const message = data && typeof data.message === 'string' ? data.message : response.statusText;
    throw new ApiError(response.status, data?.code ?? `HTTP_${response.status}`, message || 'request failed');
  }
  return data;
}

function describeError(error) {
  if (!(error instanceof ApiError)) return `Failed: ${error.message}`;
  if (error.status === 0) return 'API unreachable: the request did not get an answer.';
  if (error.status === 403) return `Not allowed: ${error.message}.`;
  return `Failed (${error.status} ${error.code}): ${error.message}.`;
}

const can = (permission) => session.me?.permissions.includes(permission) ?? false;

// ---------------------------------------------------------------------------------------------------------------
// Sign in and out

function showSignIn(message = '') {
  setHidden(ui.app, true);
  setHidden(ui.identity, true);
  setHidden(ui.signin, false);
  setText(ui.signinError, message);
}

async function start() {
  clearTimeout(session.timer);
  const epoch = ++session.epoch;
  let me;
  try {
    me = await api('GET', '/users/me');
  } catch (error) {
    if (epoch !== session.epoch) return;
    if (error.status === 401) {
      signOut('That token was not accepted. Check it and try again.');
      return;
    }
    showSignIn(`${describeError(error)} Retrying every 2 s…`);
    session.timer = setTimeout(start, REFRESH_MS);
    return;
  }
  if (epoch !== session.epoch) return;
  sessionStorage.setItem(TOKEN_KEY, session.token);
  session.me = me;
  ui.token.value = '';
  setText(ui.identityText, `Signed in as ${me.username} (${me.roles.join(', ')})`);
  setHidden(ui.identity, false);
  setHidden(ui.signin, true);
  setHidden(ui.app, false);
  const focusWasInForm =
    ui.signin.contains(document.activeElement) || document.activeElement === document.body;
  if (focusWasInForm) ui.main.focus();
  if (can('prebuilds:read')) {
    setHidden(ui.pools, false);
    setHidden(ui.forbidden, true);
    poll();
  } else {
    showForbidden();
  }
}

function signOut(message = '') {
  session.epoch++;
  clearTimeout(session.timer);
  session.token = null;
  session.me = null;
  session.status = null;
  session.lastOkAt = null;
  sessionStorage.removeItem(TOKEN_KEY);
  closeHistory();
  for (const group of groups.values()) group.root.remove();
  for (const card of cards.values()) card.chart.destroy();
  groups.clear();
  cards.clear();
  setHidden(ui.reconcileResult, true);
  setText(ui.toolbarResult, '');
  showSignIn(message);
  ui.token.focus();
}

function showForbidden() {
  const me = session.me;
  setText(
    ui.forbidden,
    `Your roles (${me.roles.join(', ') || 'none'}) do not include prebuilds:read, so there are no pools to show. ` +
      'Ask an owner for the auditor or template-admin role.',
  );
  setHidden(ui.forbidden, false);
  setHidden(ui.pools, true);
  setHidden(ui.unreachable, true);
}

ui.signinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = ui.token.value.trim();
  if (!token) {
    setText(ui.signinError, 'Enter an API token.');
    ui.token.focus();
    return;
  }
  session.token = token;
  setText(ui.signinError, '');
  start();
});

ui.signOut.addEventListener('click', () => signOut());

// ---------------------------------------------------------------------------------------------------------------
// Polling

async function poll() {
  if (session.polling) {
    session.pollAgain = true;
    return;
  }
  clearTimeout(session.timer);
  const epoch = session.epoch;
  session.polling = true;
  try {
    if (document.visibilityState === 'hidden') return; // a hidden tab does not fetch; showing it polls at once
    const status = await api('GET', '/prebuilds/status');
    if (epoch !== session.epoch) return;
    render(status);
  } catch (error) {
    if (epoch !== session.epoch) return;
    if (error.status === 401) signOut('Your token is no longer accepted; sign in again.');
    else if (error.status === 403) showForbidden();
    else showUnreachable(error);
  } finally {
    session.polling = false;
    if (epoch === session.epoch && session.me) {
      session.timer = setTimeout(poll, session.pollAgain ? 0 : REFRESH_MS);
    }
    session.pollAgain = false;
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && session.me && can('prebuilds:read')) poll();
});

function showUnreachable(error) {
  const detail = error.status ? `it answered ${error.status} ${error.code}` : 'no answer from the server';
  const since = session.lastOkAt ? ` Showing the data from ${clockTime(session.lastOkAt)}.` : '';
  setText(ui.unreachable, `API unreachable (${detail}).${since} Retrying every 2 s.`);
  setHidden(ui.unreachable, false);
  ui.app.classList.add('stale');
  setText(ui.updatedAt, session.lastOkAt ? `Last updated ${clockTime(session.lastOkAt)}` : 'Not loaded yet');
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

function render(status) {
  session.status = status;
  session.lastOkAt = new Date();
  setHidden(ui.unreachable, true);
  setHidden(ui.forbidden, true);
  setHidden(ui.pools, false);
  ui.app.classList.remove('stale');
  renderOverview(status);
  renderPools(status);
  for (const card of cards.values()) refreshHistory(card);
}

function renderOverview(status) {
  setText(ui.loopState, status.paused ? 'paused' : 'running');
  setClass(ui.loopState, status.paused ? 'badge badge-warn' : 'badge badge-ok');
  setAttr(ui.loopState, 'data-paused', String(status.paused));

  setHidden(ui.reconcile, !can('prebuilds:reconcile'));
  setHidden(ui.pauseToggle, !can('prebuilds:admin'));
  setText(ui.pauseToggle, status.paused ? 'Resume reconciliation' : 'Pause reconciliation');

  if (status.lastCycleAt) {
    const parts = [`${clockTime(status.lastCycleAt)} (${ago(status.lastCycleAt)})`];
    if (status.lastCycleDurationMs !== null && status.lastCycleDurationMs !== undefined) {
      parts.push(`took ${status.lastCycleDurationMs} ms`);
    }
    if (status.lastCycleReplica) {
      parts.push(
        status.replicaId === status.lastCycleReplica
          ? `ran on this replica (${status.lastCycleReplica})`
          : `ran on another replica (${status.lastCycleReplica})`,
      );
    }
    setText(ui.lastCycle, parts.join(' · '));
  } else {
    setText(ui.lastCycle, 'none completed yet');
  }
  setText(ui.updatedAt, `Updated ${clockTime(session.lastOkAt)} · refreshes every 2 s`);
}

function comparePresets(a, b) {
  return (
    a.templateName.localeCompare(b.templateName) ||
    a.templateId.localeCompare(b.templateId) ||
    Number(b.active) - Number(a.active) ||
    a.presetName.localeCompare(b.presetName) ||
    a.presetId.localeCompare(b.presetId)
  );
}

function renderPools(status) {
  const byTemplate = new Map();
  for (const preset of [...status.presets].sort(comparePresets)) {
    const list = byTemplate.get(preset.templateId) ?? [];
    list.push(preset);
    byTemplate.set(preset.templateId, list);
  }
  const seen = new Set();
  let groupIndex = 0;
  for (const [templateId, presets] of byTemplate) {
    let group = groups.get(templateId);
    if (!group) {
      group = createGroup(presets[0]);
      groups.set(templateId, group);
    }
    placeAt(ui.templates, group.root, groupIndex++);
    updateGroup(group, presets);
    presets.forEach((preset, index) => {
      let card = cards.get(preset.presetId);
      if (!card) {
        card = createCard(preset);
        cards.set(preset.presetId, card);
      }
      placeAt(group.cards, card.root, index);
      updateCard(card, preset, status.paused);
      seen.add(preset.presetId);
    });
  }
  for (const [presetId, card] of cards) {
    if (!seen.has(presetId)) {
      card.root.remove();
      card.chart.destroy();
      cards.delete(presetId);
    }
  }
  for (const [templateId, group] of groups) {
    if (!byTemplate.has(templateId)) {
      group.root.remove();
      groups.delete(templateId);
    }
  }
  setHidden(ui.empty, status.presets.length > 0);
}

function createGroup(preset) {
  const titleId = `template-${preset.templateId}`;
  const title = h('h2', { id: titleId });
  const count = h('span', { class: 'muted' });
  const invalidateName = h('span', { class: 'sr-only' });
  const invalidate = h(
    'button',
    { type: 'button', class: 'button button-danger', 'data-action': 'invalidate' },
    'Invalidate prebuilds',
    invalidateName,
  );
  const result = h('p', { class: 'action-result', role: 'status' });
  const list = h('div', { class: 'cards' });
  const root = h(
    'section',
    { class: 'template', 'aria-labelledby': titleId, 'data-template-id': preset.templateId },
    h('div', { class: 'template-head' }, title, count, invalidate),
    result,
    list,
  );
  const group = { root, title, count, invalidate, invalidateName, result, cards: list, name: '' };
  invalidate.addEventListener('click', () =>
    runAction(invalidate, result, async () => {
      if (!window.confirm(`Expire every prebuild of template ${group.name}? The reconciler replaces them.`)) {
        return '';
      }
      const answer = await api('POST', `/templates/${preset.templateId}/prebuilds/invalidate`);
      return `Invalidated ${plural(answer.invalidatedPresets, 'preset')}: their prebuilds are being replaced.`;
    }),
  );
  return group;
}

function updateGroup(group, presets) {
  group.name = presets[0].templateName;
  setText(group.title, group.name);
  setText(group.count, plural(presets.length, 'preset'));
  setText(group.invalidateName, ` of template ${group.name}`);
  setHidden(group.invalidate, !can('templates:update') || !presets.some((preset) => preset.active));
}

function createCard(preset) {
  const titleId = `preset-${preset.presetId}`;
  const title = h('h3', { id: titleId });
  const badges = h('ul', { class: 'badges', 'aria-label': 'Status' });
  const segments = {
    eligible: h('span', { class: 'seg seg-eligible' }),
    running: h('span', { class: 'seg seg-running' }),
    starting: h('span', { class: 'seg seg-starting' }),
    leaving: h('span', { class: 'seg seg-leaving' }),
  };
  const desiredMark = h('span', { class: 'desired-mark' });
  const bar = h(
    'div',
    { class: 'bar', role: 'img' },
    h(
      'div',
      { class: 'bar-track' },
      segments.eligible,
      segments.running,
      segments.starting,
      segments.leaving,
    ),
    desiredMark,
  );
  const fields = {};
  const numberCells = {};
  const numbers = h('dl', { class: 'numbers' });
  for (const [key, label, extra] of NUMBERS) {
    fields[key] = h('dd', { 'data-field': key }, '0');
    numberCells[key] = h('div', { class: `number ${extra}`.trim() }, h('dt', {}, label), fields[key]);
    numbers.append(numberCells[key]);
  }
  const sourceText = h('span');
  const sourceCron = h('code');
  const source = h('p', { class: 'source' }, sourceText, sourceCron);
  const presetLabel = h('span', { class: 'sr-only' });
  const claim = h(
    'button',
    { type: 'button', class: 'button button-primary', 'data-action': 'claim' },
    'Claim one',
    presetLabel,
  );
  const resumeLabel = h('span', { class: 'sr-only' });
  const resume = h(
    'button',
    { type: 'button', class: 'button', 'data-action': 'resume-preset' },
    'Resume preset',
    resumeLabel,
  );
  const historyLabel = h('span', { class: 'sr-only' });
  const historyButton = h(
    'button',
    { type: 'button', class: 'button', 'data-action': 'history', 'aria-haspopup': 'dialog' },
    'History',
    historyLabel,
  );
  const history = createHistoryBlock();
  const result = h('p', { class: 'action-result', role: 'status', 'data-field': 'result' });
  const root = h(
    'article',
    { class: 'card', 'aria-labelledby': titleId, 'data-preset-id': preset.presetId },
    h('div', { class: 'card-head' }, title, badges),
    bar,
    numbers,
    history.root,
    source,
    h('div', { class: 'card-actions' }, claim, resume, historyButton),
    result,
  );
  const card = {
    root,
    title,
    badges,
    badgeKey: '',
    bar,
    segments,
    desiredMark,
    fields,
    numberCells,
    sourceText,
    sourceCron,
    claim,
    presetLabel,
    resume,
    resumeLabel,
    result,
    preset,
    styles: new Map(),
    historyButton,
    historyLabel,
    history,
    chart: new HistoryChart(history.plot, history.legend, 'card'),
    /** The last answer of the history endpoint, what was last asked for, and a counter that drops stale answers. */
    historyData: null,
    historyAsked: null,
    historySeq: 0,
  };
  historyButton.addEventListener('click', () => openHistory(card));
  claim.addEventListener('click', () => runAction(claim, result, () => claimOne(card)));
  resume.addEventListener('click', () =>
    runAction(resume, result, async () => {
      await api('POST', `/prebuilds/presets/${card.preset.presetId}/resume`);
      return 'Preset resumed: its failures are forgotten and creation restarts on the next cycle.';
    }),
  );
  return card;
}

function badgesOf(preset, paused) {
  const list = [];
  if (paused) list.push(['paused', 'paused', 'badge-warn']);
  if (!preset.active) list.push(['inactive', 'inactive version', '']);
  if (preset.status === 'hard_limited') list.push(['hard-limited', 'hard-limited', 'badge-danger']);
  if (preset.status === 'validation_failed')
    list.push(['validation-failed', 'validation failed', 'badge-danger']);
  if (preset.backoffUntil) {
    list.push(['backoff', `backoff until ${clockTime(preset.backoffUntil)}`, 'badge-warn']);
  }
  if (list.length === 0) list.push(['healthy', 'healthy', 'badge-ok']);
  return list;
}

/** Sets an inline style only when it changed (the browser normalises what it reads back, so remember what we set). */
function setStyle(card, node, property, value) {
  const key = `${node.className} ${property}`;
  if (card.styles.get(key) === value) return;
  card.styles.set(key, value);
  node.style[property] = value;
}

function updateCard(card, preset, paused) {
  card.preset = preset;
  const label = `${preset.templateName} / ${preset.presetName}`;
  setText(card.title, preset.presetName);
  setClass(card.root, preset.active ? 'card' : 'card card-inactive');

  const badges = badgesOf(preset, paused);
  const badgeKey = JSON.stringify(badges);
  if (badgeKey !== card.badgeKey) {
    card.badgeKey = badgeKey;
    card.badges.replaceChildren(
      ...badges.map(([key, text, tone]) =>
        h('li', { class: `badge ${tone}`.trim(), 'data-badge': key }, text),
      ),
    );
  }

  for (const [key] of NUMBERS) {
    setText(card.fields[key], String(preset[key]));
    if (ALERT_NUMBERS.has(key)) {
      setClass(card.numberCells[key], preset[key] > 0 ? 'number number-alert' : 'number');
    }
  }

  // The bar: eligible, running but not claimable (not ready or expired), starting, stopping + deleting; the
  // scale is the desired count unless more than that exists, and a mark shows where desired is.
  const otherRunning = Math.max(preset.actual - preset.eligible, 0);
  const leaving = preset.stopping + preset.deleting;
  const scale = Math.max(preset.desired, preset.eligible + otherRunning + preset.starting + leaving, 1);
  const percent = (value) => `${((value / scale) * 100).toFixed(2)}%`;
  const widths = {
    eligible: preset.eligible,
    running: otherRunning,
    starting: preset.starting,
    leaving,
  };
  for (const [key, value] of Object.entries(widths))
    setStyle(card, card.segments[key], 'width', percent(value));
  setHidden(card.desiredMark, preset.desired === 0);
  setStyle(card, card.desiredMark, 'left', percent(preset.desired));
  setAttr(
    card.bar,
    'aria-label',
    `${preset.eligible} eligible, ${otherRunning} running but not claimable, ${preset.starting} starting, ` +
      `${leaving} stopping or deleting, of ${preset.desired} desired`,
  );

  const expression = preset.expression;
  const fallback = expression?.error ? `Target expression failed (${expression.error}); ` : '';
  if (preset.desiredSource === 'expression' && expression) {
    setText(card.sourceText, `Desired from the target expression (${expression.value}) `);
    setText(card.sourceCron, expression.expression);
    setHidden(card.sourceCron, false);
  } else if (preset.desiredSource === 'base') {
    setText(card.sourceText, `${fallback}${fallback ? 'desired' : 'Desired'} from the base count`);
    setText(card.sourceCron, '');
    setHidden(card.sourceCron, true);
  } else {
    setText(card.sourceText, `${fallback}${fallback ? 'desired' : 'Desired'} from schedule `);
    setText(card.sourceCron, preset.desiredSource);
    setHidden(card.sourceCron, false);
  }

  setText(card.presetLabel, ` from ${label}`);
  setText(card.resumeLabel, ` ${label}`);
  setText(card.historyLabel, ` of ${label}`);
  setHidden(card.claim, !can('workspaces:create') || !preset.active);
  setHidden(card.resume, !can('prebuilds:admin') || preset.status !== 'hard_limited');
}

// ---------------------------------------------------------------------------------------------------------------
// History: a chart and the hit rate on each card, the wider view in a dialog, the window switch

const tableTime = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

function createHistoryBlock() {
  const windowLabel = h('span', { 'data-field': 'history-window' }, HISTORY_WINDOWS[session.window].label);
  const rate = h('strong', { 'data-field': 'hit-rate' }, '—');
  const detail = h('span', { class: 'muted', 'data-field': 'hit-rate-detail' });
  // The plot is one image to assistive technology, named by a summary of what it shows; the legend after it stays
  // a readable table of the values.
  const plot = h('div', { class: 'history-chart', role: 'img', 'aria-label': 'History loading' });
  const legend = h('div', { class: 'history-legend' });
  const state = h('p', { class: 'history-state', 'data-field': 'history-state' }, 'Loading history…');
  const root = h(
    'div',
    { class: 'history', 'aria-busy': 'true' },
    h('p', { class: 'history-summary' }, windowLabel, ': hit rate ', rate, ' ', detail),
    plot,
    legend,
    state,
  );
  return { root, windowLabel, rate, detail, plot, legend, state };
}

/**
 * Fetches the card's history unless the answer for this window and this last cycle is already here or on its way:
 * samples are written by cycles, so between two cycles there is nothing new to fetch. Answers of an earlier request
 * (another window, a previous cycle) are dropped.
 */
async function refreshHistory(card) {
  const wanted = { window: session.window, cycle: session.status?.lastCycleAt ?? null };
  const asked = card.historyAsked;
  if (asked && asked.window === wanted.window && asked.cycle === wanted.cycle) return;
  card.historyAsked = wanted;
  const seq = ++card.historySeq;
  const epoch = session.epoch;
  // Busy only while what is shown is about to be replaced by another window, not on every cycle's refresh.
  if (card.historyData?.window !== wanted.window) setAttr(card.history.root, 'aria-busy', 'true');
  try {
    const presetId = encodeURIComponent(card.preset.presetId);
    const answer = await api('GET', `/prebuilds/presets/${presetId}/history?window=${wanted.window}`);
    // Dropped: an answer of another session or of an earlier request, or for a card that left the page meanwhile.
    if (epoch !== session.epoch || seq !== card.historySeq || cards.get(card.preset.presetId) !== card)
      return;
    card.historyData = answer;
    renderCardHistory(card);
    if (dialog.card === card) renderDialog();
  } catch (error) {
    if (epoch !== session.epoch || seq !== card.historySeq || cards.get(card.preset.presetId) !== card)
      return;
    if (error.status === 401) {
      signOut('Your token is no longer accepted; sign in again.');
      return;
    }
    card.historyAsked = null; // asked again on the next refresh
    const message = `History unavailable. ${describeError(error)}`;
    setText(card.history.state, message);
    if (card.history.root.hasAttribute('aria-busy')) card.history.root.removeAttribute('aria-busy');
    if (dialog.card === card) setText(ui.dialogState, message);
  }
}

function describeHitRate({ claims, misses, rate }) {
  return rate === null ? '(no claims or misses)' : `(${claims} claimed, ${misses} missed)`;
}

function renderCardHistory(card) {
  const data = card.historyData;
  const parts = card.history;
  setText(parts.windowLabel, HISTORY_WINDOWS[data.window]?.label ?? data.window);
  const rate = hitRate(data);
  setText(parts.rate, formatRate(rate.rate));
  setText(parts.detail, describeHitRate(rate));
  const drawn = card.chart.update(data);
  setText(
    parts.state,
    !drawn
      ? 'The chart library did not load; the hit rate above is still current.'
      : data.samples.length === 0
        ? 'No samples yet: one is written after each full reconcile cycle.'
        : '',
  );
  if (parts.root.hasAttribute('aria-busy')) parts.root.removeAttribute('aria-busy');
}

function openHistory(card) {
  dialog.card = card;
  dialog.rowsKey = '';
  setText(ui.dialogTitle, `History of ${card.preset.templateName} / ${card.preset.presetName}`);
  ui.dialog.showModal();
  // Created once the dialog is open, so that the charts measure the width they are drawn at.
  dialog.pool = new HistoryChart(ui.dialogPool, ui.dialogPoolLegend, 'pool');
  dialog.demand = new HistoryChart(ui.dialogDemand, ui.dialogDemandLegend, 'demand');
  renderDialog();
  ui.dialogClose.focus();
  refreshHistory(card);
}

function closeHistory() {
  if (ui.dialog.open) ui.dialog.close();
}

/** After the dialog closed (the Close button, Escape, or sign-out): free its charts and give focus back. */
ui.dialog.addEventListener('close', () => {
  const card = dialog.card;
  dialog.card = null;
  dialog.pool?.destroy();
  dialog.demand?.destroy();
  dialog.pool = null;
  dialog.demand = null;
  if (card?.historyButton.isConnected && !card.historyButton.hidden) card.historyButton.focus();
  else if (session.me) ui.main.focus();
});

ui.dialogClose.addEventListener('click', closeHistory);

function renderDialog() {
  const card = dialog.card;
  const data = card.historyData;
  if (!data) {
    setText(ui.dialogSubtitle, '');
    setText(ui.dialogHitRate, '');
    setText(ui.dialogState, 'Loading history…');
    return;
  }
  setText(
    ui.dialogSubtitle,
    `${HISTORY_WINDOWS[data.window]?.label ?? data.window}, one sample per ` +
      `${describeResolution(data.resolutionSeconds)}: ${tableTime.format(new Date(data.from))} to ` +
      `${tableTime.format(new Date(data.to))}`,
  );
  const rate = hitRate(data);
  setText(
    ui.dialogHitRate,
    `Hit rate ${formatRate(rate.rate)} ${describeHitRate(rate)}: a claim was handed a prebuild from the pool, ` +
      'a miss found none and was built from scratch.',
  );
  setText(
    ui.dialogState,
    data.samples.length === 0 ? 'No samples yet: one is written after each full reconcile cycle.' : '',
  );
  dialog.pool.update(data);
  dialog.demand.update(data);
  const rowsKey = JSON.stringify(data.samples);
  if (rowsKey !== dialog.rowsKey) {
    dialog.rowsKey = rowsKey;
    // Newest first: the table is read from the top for "what happened just now".
    ui.dialogRows.replaceChildren(
      ...[...data.samples]
        .reverse()
        .map((sample) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, tableTime.format(new Date(sample.at))),
            ...['desired', 'running', 'eligible', 'starting', 'claims', 'misses'].map((field) =>
              h('td', {}, String(sample[field])),
            ),
          ),
        ),
    );
  }
}

function syncWindowSwitches() {
  for (const fieldset of ui.windowSwitches) {
    for (const input of fieldset.querySelectorAll('input[type="radio"]')) {
      const checked = input.value === session.window;
      if (input.checked !== checked) input.checked = checked;
    }
  }
}

function setHistoryWindow(value) {
  if (!isHistoryWindow(value) || value === session.window) return;
  session.window = value;
  sessionStorage.setItem(WINDOW_KEY, value);
  syncWindowSwitches();
  if (dialog.card) setText(ui.dialogState, `Loading ${HISTORY_WINDOWS[value].label.toLowerCase()}…`);
  for (const card of cards.values()) refreshHistory(card);
}

for (const fieldset of ui.windowSwitches) {
  fieldset.addEventListener('change', (event) => setHistoryWindow(event.target.value));
}
syncWindowSwitches();

// ---------------------------------------------------------------------------------------------------------------
// Actions

/**
 * Runs one action from a button: busy while it runs (aria-disabled, so the button keeps keyboard focus), its outcome
 * written next to it, then an immediate refresh.
 */
async function runAction(button, output, work) {
  if (button.getAttribute('aria-disabled') === 'true') return;
  const epoch = session.epoch;
  button.setAttribute('aria-disabled', 'true');
  output.removeAttribute('data-state');
  output.removeAttribute('data-outcome');
  setText(output, 'Working…');
  try {
    const message = await work();
    if (epoch !== session.epoch) return;
    setText(output, message);
    if (message) output.setAttribute('data-state', 'ok');
  } catch (error) {
    if (epoch !== session.epoch) return;
    if (error.status === 401) {
      signOut('Your token is no longer accepted; sign in again.');
      return;
    }
    setText(output, describeError(error));
    output.setAttribute('data-state', 'error');
  } finally {
    button.removeAttribute('aria-disabled');
    if (epoch === session.epoch && can('prebuilds:read')) poll();
  }
}

async function claimOne(card) {
  const output = card.result;
  const { templateId, presetId } = card.preset;
  const name = `claim-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const started = performance.now();
  const workspace = await api('POST', '/workspaces', { templateId, presetId, name });
  const elapsed = Math.round(performance.now() - started);
  output.setAttribute('data-outcome', workspace.claimed ? 'claimed' : 'built');
  return workspace.claimed
    ? `Claimed: workspace ${workspace.name} is yours, handed over from the pool in ${elapsed} ms.`
    : `Not claimed: no eligible prebuild, so ${workspace.name} is being built from scratch (${elapsed} ms).`;
}

function describeAction(action) {
  switch (action.type) {
    case 'create':
      return `create ${action.count}`;
    case 'delete':
      return `delete ${action.workspaceIds.length}`;
    case 'backoff':
      return `backoff until ${clockTime(action.until)}`;
    case 'cancel_pending':
      return 'cancel pending builds';
    default:
      return action.type;
  }
}

function showReconcileResult(result) {
  const names = new Map(
    (session.status?.presets ?? []).map((p) => [p.presetId, `${p.templateName} / ${p.presetName}`]),
  );
  const acted = result.presets.filter((p) => p.actions.length > 0 || p.errors.length > 0).length;
  setText(
    ui.reconcileSummary,
    result.paused
      ? 'Reconciliation is paused: the cycle only reported that, and changed nothing.'
      : `The cycle took ${result.elapsedMs} ms over ${plural(result.presets.length, 'preset')}; ` +
          `${acted} had something to do.`,
  );
  ui.reconcileRows.replaceChildren(
    ...result.presets.map((preset) =>
      h(
        'tr',
        { 'data-preset-id': preset.presetId },
        h('th', { scope: 'row' }, names.get(preset.presetId) ?? preset.presetId),
        h('td', {}, String(preset.state.desired)),
        h('td', {}, String(preset.state.actual)),
        h('td', {}, String(preset.state.eligible)),
        h('td', {}, preset.actions.map(describeAction).join(', ') || 'nothing to do'),
        h('td', { class: 'errors' }, preset.errors.join('; ') || '—'),
      ),
    ),
  );
  setHidden(ui.reconcileResult, false);
}

ui.reconcile.addEventListener('click', () =>
  runAction(ui.reconcile, ui.toolbarResult, async () => {
    const result = await api('POST', '/prebuilds/reconcile', {});
    showReconcileResult(result);
    return result.paused
      ? 'Reconcile ran, but reconciliation is paused.'
      : `Reconciled ${plural(result.presets.length, 'preset')} in ${result.elapsedMs} ms.`;
  }),
);

ui.pauseToggle.addEventListener('click', () =>
  runAction(ui.pauseToggle, ui.toolbarResult, async () => {
    const paused = !(session.status?.paused ?? false);
    const answer = await api('PUT', '/prebuilds/settings', { reconciliationPaused: paused });
    if (session.status) {
      session.status.paused = answer.reconciliationPaused;
      renderOverview(session.status);
    }
    return answer.reconciliationPaused
      ? 'Reconciliation paused: pools are left as they are; claims still work.'
      : 'Reconciliation resumed.';
  }),
);

ui.reconcileClose.addEventListener('click', () => {
  setHidden(ui.reconcileResult, true);
  ui.reconcile.focus();
});

// ---------------------------------------------------------------------------------------------------------------
// Start

const stored = sessionStorage.getItem(TOKEN_KEY);
if (stored) {
  session.token = stored;
  start();
} else {
  showSignIn();
  ui.token.focus();
}
