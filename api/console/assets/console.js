// NemID issuance console. Plain DOM, no framework, no build step.
//
// Rules this file keeps:
// - everything that comes from the API is written with textContent, never
//   as markup, so a name or a detail can never become HTML;
// - the token lives in sessionStorage only, and only once the API accepted
//   it: it dies with the tab and is sent nowhere but in the Authorization
//   header of same-origin calls;
// - no inline handlers or styles, so the page works under a strict CSP.
'use strict';

(() => {
  const TOKEN_KEY = 'nemid.console.token';
  const FINAL = ['rejected', 'active', 'expired', 'cancelled'];
  const LETTER_KINDS = {
    code_card: 'code card',
    password: 'password',
    replacement_card: 'replacement card',
    reminder: 'reminder',
  };
  // The statuses in the order an issuance moves through them: the header's
  // counts (GET /v1/issuances/counts answers every one).
  const STATUSES = ['received', 'letters_posted', 'awaiting_handover', 'awaiting_pickup', 'awaiting_activation',
    'active', 'rejected', 'expired', 'cancelled'];
  const SOON_MS = 2 * 24 * 60 * 60 * 1000; // a deadline this close is flagged
  // What a token's scope is, per role (the placeholder of the scope field).
  const SCOPE_HINTS = {
    caseworker: 'centre, e.g. KBH',
    embassy: 'representation, e.g. LONDON',
    bank: 'registration number, e.g. 1234',
    post: 'post',
    admin: 'all',
  };
  // The audit log's actions (store.AuditActions), for the page's filter.
  const AUDIT_ACTIONS = [
    'issuance_created', 'issuance_cancelled', 'handover_confirmed', 'handover_pdf_fetched', 'pickup_confirmed',
    'public_signature_upgraded', 'letter_pdf_fetched', 'letter_dispatched', 'credential_unlocked',
    'credential_blocked', 'credential_unblocked', 'credential_looked_up', 'issuances_searched', 'token_created', 'token_revoked',
    'appointment_checked_in', 'oidc_client_created', 'oidc_logon', 'notification_sent',
  ];

  const state = {
    token: '', role: '', scope: '', name: '',
    status: '', cursor: '',  // issuances list: filter and next page
    letterCursor: '',        // letters queue: next page
    tokenCursor: '',         // tokens list (admin): next page
    oidcCursor: '',          // service providers list (admin): next page
    auditAction: '', auditCursor: '', // audit log (admins): filter and next page
    selected: null,          // the issuance shown in the detail panel
    checkingIn: null,        // the appointment whose counter application is open
    credential: null,        // the NemID shown in the find box
    handovers: new Map(),    // issuance id -> object URL of its printed handover PDF
    epoch: 0,                // bumped on sign-in and sign-out: late answers are dropped
    listSeq: 0,              // the newest list load; an older answer is dropped
    countsSeq: 0,            // the newest counts load; likewise
    detailSeq: 0,            // the newest detail load; likewise
    daySeq: 0,               // the newest load of the centre's day; likewise
  };

  // el finds the one element with a data-testid; the tests drive the same hooks.
  const el = (id) => document.querySelector(`[data-testid="${id}"]`);
  const show = (id, visible) => { el(id).hidden = !visible; };
  const canCancel = () => state.role === 'caseworker' || state.role === 'admin';

  // ---- API -----------------------------------------------------------------

  class APIError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || (status ? `The server answered ${status}.` : 'The server could not be reached.'));
      this.status = status;
      this.code = e.code || '';
      this.details = Array.isArray(e.details) ? e.details : [];
    }
  }

  // newKey makes an Idempotency-Key. randomUUID needs a secure context;
  // getRandomValues does not, so the console also works over plain http.
  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // api calls the API with the bearer token. opts.body is sent as JSON;
  // opts.blob answers a Blob (PDFs). Errors are the contract's JSON shape.
  async function api(method, path, opts = {}) {
    const headers = { Authorization: `Bearer ${state.token}`, Accept: opts.blob ? 'application/pdf' : 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
    if (method === 'POST') headers['Idempotency-Key'] = newKey();
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (_) {
      throw new APIError(0, null);
    }
    if (!res.ok) {
      let parsed = null;
      try { parsed = await res.json(); } catch (_) { /* not JSON: keep the status */ }
      throw new APIError(res.status, parsed);
    }
    return opts.blob ? res.blob() : res.json();
  }

  // ---- messages ------------------------------------------------------------

  function say(text, kind, details) {
    const box = el('message');
    box.classList.toggle('message-error', kind === 'error');
    box.classList.toggle('message-ok', kind !== 'error');
    el('message-text').textContent = text;
    el('message-details').replaceChildren(...(details || []).map((d) =>
      node('li', d.code ? `${d.message || d.code} (${d.code})` : d.message)));
    box.hidden = false;
    // The box sits above the views; after an action further down, bring it up.
    if (box.getBoundingClientRect().top < 0) box.scrollIntoView({ block: 'start' });
  }

  function clearMessage() { el('message').hidden = true; }

  // fail shows an error, after what was being done ("Could not …"). A 401
  // in the middle of a session means the token was revoked or expired:
  // forget it and ask for another. Calls made together (the list and the
  // header's counts) each get their 401: the first signs out, and the
  // others keep its message.
  function fail(err, doing) {
    const prefix = doing ? `${doing}: ` : '';
    if (!(err instanceof APIError)) {
      say(`${prefix}the console failed (${err && err.message ? err.message : err}).`, 'error');
      return;
    }
    if (err.status === 401) {
      if (!state.role) return; // signed out already
      signOut();
      say('Your token is no longer accepted. Sign in again with a valid token.', 'error');
      return;
    }
    say(prefix + err.message, 'error', err.details);
  }

  // ---- small DOM helpers ---------------------------------------------------

  function node(tag, text, className) {
    const n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (className) n.className = className;
    return n;
  }

  function button(label, testid, className, onClick) {
    const b = node('button', label, `btn ${className || ''}`.trim());
    b.type = 'button';
    b.dataset.testid = testid;
    b.addEventListener('click', onClick);
    return b;
  }

  // label copies each column's heading onto its cells (data-label), so that
  // on a narrow screen a row can be shown as a stacked card.
  function label(tr, bodyID) {
    const heads = el(bodyID).closest('table').querySelectorAll('thead th');
    Array.from(tr.children).forEach((td, i) => {
      if (heads[i]) td.dataset.label = heads[i].textContent;
    });
  }

  const when = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

  const whenToTheSecond = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });

  // time renders an instant for people, keeping the exact one in the tooltip.
  function time(iso, className, format) {
    if (!iso) return node('span', '—', `muted ${className || ''}`.trim());
    const t = node('time', (format || when).format(new Date(iso)), className);
    t.dateTime = iso;
    t.title = iso;
    return t;
  }

  function setTime(target, iso) { target.replaceChildren(time(iso)); }

  // badge colours the status; the class name is built only from [a-z_].
  function setBadge(n, status) {
    n.textContent = status || '';
    n.className = 'badge';
    if (/^[a-z_]+$/.test(status || '')) n.classList.add(`status-${status}`);
  }

  function office(iss) {
    if (iss.centre) return `Centre ${iss.centre}`;
    if (iss.representation) return `Representation ${iss.representation}`;
    if (iss.bank) return `Bank ${iss.bank}`;
    return '—';
  }

  // deadlineClass flags a pending issuance whose wait ends soon or has ended.
  function deadlineClass(iss) {
    if (!iss.deadline || FINAL.includes(iss.status)) return '';
    const left = new Date(iss.deadline).getTime() - Date.now();
    if (left < 0) return 'deadline-past';
    return left < SOON_MS ? 'deadline-soon' : '';
  }

  // busy disables a control while its request is in flight, so a double
  // click does not send an action twice, and shows any error after the
  // words saying what failed.
  async function busy(control, doing, work) {
    if (control) control.disabled = true;
    clearMessage();
    try {
      await work();
    } catch (err) {
      fail(err, doing);
    } finally {
      if (control) control.disabled = false;
    }
  }

  // loading marks a region while it is being fetched (styled as dimmed).
  async function loading(region, work) {
    region.setAttribute('aria-busy', 'true');
    try { return await work(); } finally { region.removeAttribute('aria-busy'); }
  }

  // ---- sign-in -------------------------------------------------------------

  async function signIn(token) {
    const epoch = ++state.epoch;
    state.token = token;
    let who;
    try {
      who = await api('GET', '/v1/whoami');
    } catch (err) {
      if (epoch !== state.epoch) return;
      state.token = '';
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn();
      if (err.status === 401) {
        say('That token was not accepted: it is unknown, revoked or mistyped.', 'error');
      } else {
        say(`Could not sign in: ${err.message}`, 'error', err.details);
      }
      return;
    }
    if (epoch !== state.epoch) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    state.role = who.role;
    state.scope = who.scope;
    state.name = who.name || '';
    el('whoami-name').textContent = state.name;
    el('whoami-role').textContent = `${who.role}:${who.scope}`;
    el('token-input').value = '';
    show('signin', false);
    show('whoami', true);
    if (who.role === 'post') {
      show('letters-view', true);
      await loadLetters(false).catch((err) => fail(err, 'Could not load the letters'));
    } else {
      show('admin-nav', state.role === 'admin');
      showView('issuances');
      show('unlock-box', canCancel());
      show('credential-box', canCancel());
      show('signature-box', state.role === 'caseworker');
      show('day-box', state.role === 'caseworker');
      if (state.role === 'caseworker') await loadDay().catch((err) => fail(err, 'Could not load the appointments'));
      show('fees-box', state.role === 'embassy');
      await loadIssuances(false).catch((err) => fail(err, 'Could not load the issuances'));
      if (state.role === 'embassy') await loadFees().catch((err) => fail(err, 'Could not load the fees'));
    }
  }

  // showView switches an admin between the issuances, the tokens, the
  // service providers and the audit log.
  function showView(view) {
    show('issuances-view', view === 'issuances');
    show('tokens-view', view === 'tokens');
    show('oidc-view', view === 'oidc');
    show('audit-view', view === 'audit');
    for (const [id, name] of [['nav-issuances', 'issuances'], ['nav-tokens', 'tokens'], ['nav-oidc', 'oidc'], ['nav-audit', 'audit']]) {
      if (name === view) el(id).setAttribute('aria-current', 'page');
      else el(id).removeAttribute('aria-current');
    }
  }

  function showSignIn() {
    for (const id of ['day-box', 'whoami', 'counts', 'admin-nav', 'issuances-view', 'tokens-view', 'oidc-view', 'letters-view', 'audit-view', 'detail', 'unlock-box', 'signature-box', 'fees-box', 'credential-box']) show(id, false);
    show('signin', true);
    el('token-input').focus();
  }

  // signOut forgets the token, every rendered row and every held PDF.
  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    state.epoch++;
    for (const url of state.handovers.values()) URL.revokeObjectURL(url);
    state.handovers.clear();
    Object.assign(state, { token: '', role: '', scope: '', name: '', status: '', cursor: '', letterCursor: '', tokenCursor: '', oidcCursor: '', selected: null,
      auditAction: '', auditCursor: '', credential: null });
    el('status-filter').value = '';
    el('audit-action').value = '';
    el('audit-body').replaceChildren();
    el('day-body').replaceChildren();
    el('day-date').value = '';
    el('day-title').textContent = 'Today at my centre';
    closeCheckIn();
    el('issuances-body').replaceChildren();
    el('letters-body').replaceChildren();
    el('tokens-body').replaceChildren();
    forgetCreatedToken();
    el('oidc-body').replaceChildren();
    forgetCreatedClient();
    el('whoami-name').textContent = '';
    el('fees-recent').replaceChildren();
    el('fees-total').textContent = '';
    el('fees-count').textContent = '';
    el('whoami-role').textContent = '';
    el('counts-list').replaceChildren();
    el('count-total').textContent = '';
    // Document numbers typed for a pickup or a photo ID check stay with this session.
    for (const id of ['pickup-form', 'signature-form', 'cancel-form', 'unlock-form', 'token-form', 'oidc-form', 'find-form', 'block-form', 'unblock-form']) el(id).reset();
    for (const id of ['issuances-empty', 'load-more', 'letters-empty', 'letters-more', 'tokens-empty', 'tokens-more', 'oidc-empty', 'oidc-more', 'audit-empty', 'audit-more', 'credential-view']) show(id, false);
    el('credential-cards').replaceChildren();
    clearMessage();
    showSignIn();
  }

  // ---- issuances -----------------------------------------------------------

  async function loadIssuances(more) {
    if (!more) loadCounts().catch((err) => fail(err, 'Could not load the counts'));
    const seq = ++state.listSeq;
    const epoch = state.epoch;
    const q = new URLSearchParams({ limit: '50' });
    if (state.status) q.set('status', state.status);
    if (more && state.cursor) q.set('cursor', state.cursor);
    const page = await loading(el('issuances-body'), () => api('GET', `/v1/issuances?${q}`));
    if (seq !== state.listSeq || epoch !== state.epoch) return; // a newer load or a sign-out won
    const body = el('issuances-body');
    if (!more) body.replaceChildren();
    for (const iss of page.items || []) body.append(issuanceRow(iss));
    state.cursor = page.next_cursor || '';
    show('load-more', Boolean(state.cursor));
    el('issuances-empty').textContent = state.status
      ? `No issuances with status ${state.status}.` : 'No issuances yet.';
    show('issuances-empty', body.children.length === 0);
  }

  // loadCounts shows in the header how many issuances the principal's
  // scope holds per status; a count is a button that filters the list.
  async function loadCounts() {
    const seq = ++state.countsSeq;
    const epoch = state.epoch;
    const answer = await api('GET', '/v1/issuances/counts');
    if (seq !== state.countsSeq || epoch !== state.epoch) return;
    el('count-total').textContent = `${answer.total} in all`;
    el('counts-list').replaceChildren(...STATUSES.map((status) => {
      const n = (answer.counts && answer.counts[status]) || 0;
      const b = node('button', undefined, 'count');
      b.type = 'button';
      b.dataset.testid = `count-${status}`;
      b.dataset.count = String(n);
      b.title = `Show only ${status.replaceAll('_', ' ')}`;
      if (state.status === status) b.setAttribute('aria-pressed', 'true');
      const badge = node('span');
      setBadge(badge, status);
      b.append(badge, node('span', String(n), 'count-n'));
      b.addEventListener('click', () => {
        state.status = state.status === status ? '' : status;
        el('status-filter').value = state.status;
        busy(null, 'Could not load the issuances', () => loadIssuances(false));
      });
      return b;
    }));
    show('counts', true);
  }

  function issuanceRow(iss) {
    const tr = node('tr', undefined, 'clickable');
    tr.dataset.testid = 'issuance-row';
    tr.dataset.id = iss.id;
    tr.tabIndex = 0;
    if (state.selected && state.selected.id === iss.id) {
      tr.classList.add('selected');
      tr.setAttribute('aria-selected', 'true');
    }
    const badge = node('span');
    setBadge(badge, iss.status);
    const cells = [
      [time(iss.created_at), 'nowrap'],
      [node('span', iss.cpr_masked), 'mono nowrap'],
      [node('span', iss.path), ''],
      [badge, ''],
      [node('span', office(iss)), ''],
      [time(iss.deadline), `nowrap ${deadlineClass(iss)}`.trim()],
    ];
    for (const [content, className] of cells) {
      const td = node('td', undefined, className);
      td.append(content);
      tr.append(td);
    }
    label(tr, 'issuances-body');
    const open = () => busy(null, 'Could not open the issuance', () => openIssuance(iss.id));
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        open();
      }
    });
    return tr;
  }

  async function openIssuance(id) {
    const seq = ++state.detailSeq;
    const epoch = state.epoch;
    const iss = await loading(el('detail'), () => api('GET', `/v1/issuances/${encodeURIComponent(id)}`));
    if (seq !== state.detailSeq || epoch !== state.epoch) return; // another row was opened meanwhile
    const opened = !state.selected || state.selected.id !== id;
    if (opened) {
      el('cancel-form').reset();
      el('pickup-form').reset();
    }
    renderDetail(iss);
    // In the one-column layout the panel is under the list: bring it up.
    if (opened && window.matchMedia('(max-width: 1000px)').matches) {
      el('detail').scrollIntoView({ behavior: 'smooth', block: 'start' });
    }
  }

  function renderDetail(iss) {
    state.selected = iss;
    el('detail-id').textContent = iss.id;
    setBadge(el('detail-status'), iss.status);
    el('detail-cpr').textContent = iss.cpr_masked;
    el('detail-path').textContent = iss.path;
    el('detail-office').textContent = office(iss);
    el('detail-signature').textContent = iss.public_signature === null || iss.public_signature === undefined
      ? '—' : (iss.public_signature ? 'yes' : 'no');
    setTime(el('detail-created'), iss.created_at);
    setTime(el('detail-updated'), iss.updated_at);
    setTime(el('detail-deadline'), iss.deadline);
    el('detail-deadline').className = deadlineClass(iss);

    const reasons = el('detail-reasons');
    reasons.replaceChildren(...(iss.reasons || []).map((r) => node('li', `${r.message} (${r.code})`)));
    show('detail-reasons-box', reasons.children.length > 0);

    el('timeline').replaceChildren(...(iss.timeline || []).map((ev) => {
      const li = node('li');
      li.dataset.testid = 'timeline-entry';
      const head = node('div', undefined, 'timeline-head');
      head.append(node('span', ev.type, 'timeline-type'), time(ev.at, 'timeline-at'));
      li.append(head);
      if (ev.detail) li.append(node('div', ev.detail, 'timeline-detail'));
      li.append(node('div', ev.actor_name ? `${ev.actor_name} (${ev.actor})` : ev.actor, 'timeline-actor'));
      return li;
    }));

    // Handover: printed once; the PDF stays openable from memory until sign-out.
    const printed = state.handovers.get(iss.id);
    const link = el('handover-link');
    if (printed) {
      link.href = printed;
      link.download = `handover-${iss.id}.pdf`;
    } else {
      link.removeAttribute('href');
      link.removeAttribute('download');
    }
    link.hidden = !printed;
    show('handover', iss.status === 'awaiting_handover' && !printed);
    show('handover-box', state.role === 'caseworker' && (iss.status === 'awaiting_handover' || Boolean(printed)));

    show('pickup-form', state.role === 'embassy' && iss.status === 'awaiting_pickup');
    show('cancel-form', canCancel() && !FINAL.includes(iss.status));
    show('detail', true);

    // Keep the list in step with the panel without reloading every page.
    for (const tr of Array.from(el('issuances-body').children)) {
      if (tr.dataset.id === iss.id) {
        tr.replaceWith(issuanceRow(iss));
      } else {
        tr.classList.remove('selected');
        tr.removeAttribute('aria-selected');
      }
    }
  }

  function closeDetail() {
    state.selected = null;
    state.detailSeq++;
    show('detail', false);
    for (const tr of el('issuances-body').children) {
      tr.classList.remove('selected');
      tr.removeAttribute('aria-selected');
    }
  }

  async function cancelSelected() {
    const input = el('cancel-reason');
    const reason = input.value.trim();
    if (!reason) {
      say('Give a reason for the cancellation.', 'error');
      input.focus();
      return;
    }
    const id = state.selected.id;
    const iss = await api('POST', `/v1/issuances/${encodeURIComponent(id)}/cancel`, { body: { reason } });
    input.value = '';
    if (state.selected && state.selected.id === id) renderDetail(iss);
    say(`The issuance for ${iss.cpr_masked} is cancelled; its credentials are revoked.`, 'ok');
    await loadCounts().catch((err) => fail(err, 'Could not load the counts'));
  }

  // The handover PDF is served exactly once (a second request is 410), so
  // the blob is kept as an object URL behind the link until sign-out.
  async function printHandover() {
    const id = state.selected.id;
    const pdf = await api('POST', `/v1/issuances/${encodeURIComponent(id)}/handover`, { blob: true });
    state.handovers.set(id, URL.createObjectURL(pdf));
    say('The handover document is ready: save and print it now, and seal the code card and the password separately. It cannot be fetched again.', 'ok');
    await openIssuance(id);
    await loadCounts().catch((err) => fail(err, 'Could not load the counts'));
  }

  // wholeKroner reads a number input as a whole, non-negative amount, or NaN.
  function wholeKroner(input) {
    const raw = input.value.trim();
    const n = raw === '' ? NaN : Number(raw);
    return Number.isInteger(n) && n >= 0 ? n : NaN;
  }

  // confirmPickup records, for the embassy holding the sealed password
  // letter, that the person showed the order's document and paid the fee.
  // The API judges both; a refusal lists every broken rule.
  async function confirmPickup() {
    const doc = el('pickup-document');
    const fee = el('pickup-fee');
    const receipt = el('pickup-receipt');
    const body = { document_number: doc.value.trim(), fee_paid_dkk: wholeKroner(fee), receipt: receipt.value.trim() };
    if (!body.document_number) {
      say('Enter the number of the document the person shows.', 'error');
      doc.focus();
      return;
    }
    if (Number.isNaN(body.fee_paid_dkk)) {
      say('Enter the fee paid in whole kroner.', 'error');
      fee.focus();
      return;
    }
    if (!body.receipt) {
      say('Enter the receipt number of the fee.', 'error');
      receipt.focus();
      return;
    }
    const id = state.selected.id;
    let iss;
    try {
      iss = await api('POST', `/v1/issuances/${encodeURIComponent(id)}/pickup`, { body });
    } catch (err) {
      // 409: the issuance moved on meanwhile (picked up, cancelled, expired);
      // show where it stands now, which also hides the form.
      if (err.status === 409 && state.selected && state.selected.id === id) {
        await openIssuance(id).catch(() => {});
      }
      throw err;
    }
    el('pickup-form').reset();
    if (state.selected && state.selected.id === id) renderDetail(iss);
    say(`The password letter for ${iss.cpr_masked} is picked up; the NemID now awaits activation.`, 'ok');
    await loadCounts().catch((err) => fail(err, 'Could not load the counts'));
    await loadFees().catch((err) => fail(err, 'Could not load the fees')); // the fee just paid joins the summary
  }

  // upgradeSignature records a photo ID check for a NemID a bank issued
  // without one. Caseworkers cannot list bank issuances, so the ID is typed;
  // the person's CPR number ties the check to the NemID (the API answers
  // person_mismatch for another person's).
  async function upgradeSignature() {
    const idInput = el('signature-issuance-id');
    const number = el('signature-doc-number');
    const expires = el('signature-doc-expires');
    const id = idInput.value.replace(/\s+/g, '');
    if (!id) {
      say('Enter the issuance ID of the bank-issued NemID.', 'error');
      idInput.focus();
      return;
    }
    const cprInput = el('signature-cpr');
    const cpr = cprInput.value.replace(/\s+/g, '');
    if (!/^\d{6}-?\d{4}$/.test(cpr)) {
      say('Enter the CPR number of the person present (DDMMYY-SSSS).', 'error');
      cprInput.focus();
      return;
    }
    const photoID = { type: el('signature-doc-type').value, number: number.value.trim(), expires: expires.value };
    if (!photoID.number) {
      say('Enter the number of the photo ID shown.', 'error');
      number.focus();
      return;
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(photoID.expires)) {
      say('Enter the expiry date of the photo ID shown.', 'error');
      expires.focus();
      return;
    }
    const iss = await api('POST', `/v1/issuances/${encodeURIComponent(id)}/public-signature`, { body: { cpr, document: photoID } });
    el('signature-form').reset();
    if (state.selected && state.selected.id === iss.id) renderDetail(iss);
    say(`The NemID of issuance ${iss.id} (${iss.cpr_masked}) can now be used as a public digital signature.`, 'ok');
  }

  async function unlock() {
    const input = el('unlock-user-id');
    const userID = input.value.replace(/\s+/g, '');
    if (!/^\d{9}$/.test(userID)) {
      say('A NemID number has 9 digits.', 'error');
      input.focus();
      return;
    }
    const photoID = shownPhotoID('unlock');
    if (!photoID) return;
    const body = { cpr: el('unlock-cpr').value.trim(), document: photoID };
    const res = await api('POST', `/v1/credentials/${encodeURIComponent(userID)}/unlock`, { body });
    el('unlock-form').reset();
    say(res.was_locked
      ? `NemID ${res.user_id} is unlocked; the person can log on again.`
      : `NemID ${res.user_id} was not locked; its count of failed attempts is reset.`, 'ok');
    if (state.selected) await openIssuance(state.selected.id); // the timeline records the unlock
  }

  // ---- fees (embassy) ------------------------------------------------------

  const kroner = new Intl.NumberFormat('da-DK', { maximumFractionDigits: 0 });
  const RECENT_FEES = 5;

  // loadFees shows the embassy's fee summary: the ledger's total and count
  // (over every fee, not only the page) and the most recent fees. The API
  // answers only the token's own representation.
  async function loadFees() {
    const epoch = state.epoch;
    const q = new URLSearchParams({ limit: String(RECENT_FEES) });
    const ledger = await loading(el('fees-recent'), () => api('GET', `/v1/fees?${q}`));
    if (epoch !== state.epoch) return;
    el('fees-total').textContent = `DKK ${kroner.format(ledger.total_dkk || 0)}`;
    el('fees-count').textContent = String(ledger.count || 0);
    el('fees-recent').replaceChildren(...(ledger.items || []).map(feeItem));
    show('fees-empty', !(ledger.items || []).length);
  }

  function feeItem(f) {
    const li = node('li', undefined, 'fee');
    li.dataset.testid = 'fee-row';
    const head = node('div', undefined, 'fee-head');
    head.append(node('span', `DKK ${kroner.format(f.amount_dkk)}`, 'strong'), time(f.at, 'muted small'));
    const receipt = node('div', `Receipt ${f.receipt}`, 'small');
    const issuance = node('div', f.issuance_id, 'mono small muted');
    issuance.title = `Issuance ${f.issuance_id}`;
    li.append(head, receipt, issuance);
    return li;
  }

  // ---- finding, blocking and unblocking a NemID ----------------------------

  // findCredential looks a NemID up by its 9-digit number, or the person's
  // current one by CPR (sent in the body: a CPR never goes in a URL).
  async function findCredential() {
    const input = el('find-query');
    const q = input.value.replace(/\s+/g, '');
    let c;
    if (/^\d{9}$/.test(q)) {
      c = await api('GET', `/v1/credentials/${encodeURIComponent(q)}`);
    } else if (/^\d{6}-?\d{4}$/.test(q)) {
      c = await api('POST', '/v1/credentials/search', { body: { cpr: q } });
    } else {
      say('Enter a 9-digit NemID number or a CPR number (DDMMYY-SSSS).', 'error');
      input.focus();
      return;
    }
    renderCredential(c);
    clearMessage();
  }

  function renderCredential(c) {
    state.credential = c;
    el('credential-user-id').textContent = c.user_id;
    el('credential-status').textContent = c.status;
    el('credential-issuance').textContent = c.issuance_id;
    el('credential-cards').replaceChildren(...c.cards.map((card) => {
      const tr = node('tr');
      tr.dataset.testid = 'credential-card';
      tr.append(node('td', card.card_number, 'mono'), node('td', card.status), node('td', card.unspent, 'right'));
      return tr;
    }));
    show('block-form', c.status !== 'blocked' && c.status !== 'revoked');
    show('unblock-form', c.status === 'blocked' || c.status === 'locked');
    show('credential-view', true);
  }

  async function blockCredential() {
    const reason = el('block-reason');
    if (!reason.value.trim()) {
      say('Enter why the NemID is blocked.', 'error');
      reason.focus();
      return;
    }
    const c = await api('POST', `/v1/credentials/${encodeURIComponent(state.credential.user_id)}/block`, { body: { reason: reason.value.trim() } });
    el('block-form').reset();
    renderCredential(c);
    say(`NemID ${c.user_id} is blocked: every logon is refused and its sessions have ended.`, 'ok');
  }

  // The photo IDs DESIGN.md §2 accepts, for every form that asks which one
  // was shown (passport preselected).
  const PHOTO_ID_TYPES = [
    ['eu_driving_licence', 'EU driving licence'], ['passport', 'Passport'], ['military_id', 'Military ID'],
    ['nato_passport', 'NATO passport'], ['police_id', 'Police ID'], ['residence_permit', 'Residence permit'],
    ['bank_id_card', 'Bank ID card'], ['national_id_card', 'National ID card'],
  ];

  function photoIDOptions() {
    for (const select of document.querySelectorAll('select[data-photo-id-types]')) {
      select.append(...PHOTO_ID_TYPES.map(([value, label]) => {
        const o = node('option', label);
        o.value = value;
        o.defaultSelected = value === 'passport'; // also what a form's reset returns to
        return o;
      }));
    }
  }

  // shownPhotoID reads the photo ID typed into the form whose fields start
  // with prefix, or says what is missing and answers null.
  function shownPhotoID(prefix) {
    const number = el(`${prefix}-doc-number`);
    const expires = el(`${prefix}-doc-expires`);
    const photoID = { type: el(`${prefix}-doc-type`).value, number: number.value.trim(), expires: expires.value };
    if (!photoID.number) {
      say('Enter the number of the photo ID shown.', 'error');
      number.focus();
      return null;
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(photoID.expires)) {
      say('Enter the expiry date of the photo ID shown.', 'error');
      expires.focus();
      return null;
    }
    return photoID;
  }

  async function unblockCredential() {
    const photoID = shownPhotoID('unblock');
    if (!photoID) return;
    const body = { cpr: el('unblock-cpr').value.trim(), document: photoID };
    const c = await api('POST', `/v1/credentials/${encodeURIComponent(state.credential.user_id)}/unblock`, { body });
    el('unblock-form').reset();
    renderCredential(c);
    say(`NemID ${c.user_id} is unblocked; the person can log on again.`, 'ok');
  }

  // ---- letters (post) ------------------------------------------------------

  async function loadLetters(more) {
    const seq = ++state.listSeq;
    const epoch = state.epoch;
    const q = new URLSearchParams({ status: 'queued', limit: '50' });
    if (more && state.letterCursor) q.set('cursor', state.letterCursor);
    const page = await loading(el('letters-body'), () => api('GET', `/v1/letters?${q}`));
    if (seq !== state.listSeq || epoch !== state.epoch) return;
    const body = el('letters-body');
    if (!more) body.replaceChildren();
    for (const l of page.items || []) body.append(letterRow(l));
    state.letterCursor = page.next_cursor || '';
    lettersShown();
  }

  function lettersShown() {
    show('letters-more', Boolean(state.letterCursor));
    show('letters-empty', el('letters-body').children.length === 0);
  }

  const kindLabel = (kind) => LETTER_KINDS[kind] || String(kind || '').replace(/_/g, ' ');

  function letterRow(l) {
    const tr = node('tr');
    tr.dataset.testid = 'letter-row';
    tr.dataset.id = l.id;
    tr.dataset.issuance = l.issuance_id;
    const r = l.recipient || {};

    const idCell = node('td', l.id, 'mono small');
    idCell.title = `Letter ${l.id} of issuance ${l.issuance_id}`;

    const kindCell = node('td');
    const kind = node('span', kindLabel(l.kind), 'kind');
    if (/^[a-z_]+$/.test(l.kind || '')) kind.classList.add(`kind-${l.kind}`);
    kindCell.append(kind);

    const recipient = node('td');
    recipient.append(node('div', r.name, 'strong'));
    for (const line of r.lines || []) recipient.append(node('div', line, 'muted small'));

    const city = node('td');
    city.append(node('span', [r.postcode, r.city].filter(Boolean).join(' ')));
    if (r.country && r.country !== 'DK') city.append(node('div', r.country, 'muted small'));

    const created = node('td', undefined, 'nowrap');
    created.append(time(l.created_at));

    const actions = node('td', undefined, 'right nowrap');
    const pdf = button('Download PDF', 'letter-pdf', '', () => busy(pdf, 'Could not fetch the letter', () => openLetter(l)));
    pdf.title = `Download the ${kindLabel(l.kind)} letter to print`;
    const sent = button('Mark dispatched', 'letter-dispatch', 'btn-primary', () => busy(sent, 'Could not mark the letter dispatched', () => dispatched(l, tr)));
    actions.append(pdf, sent);

    tr.append(idCell, kindCell, recipient, city, created, actions);
    label(tr, 'letters-body');
    return tr;
  }

  // openLetter fetches the PDF with the bearer header (a plain link could
  // not send it) and hands it to the browser as a download.
  async function openLetter(l) {
    const pdf = await api('GET', `/v1/letters/${encodeURIComponent(l.id)}/pdf`, { blob: true });
    const url = URL.createObjectURL(pdf);
    const a = node('a');
    a.href = url;
    a.download = `${l.kind}-${l.id}.pdf`;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000); // time enough for the download to start
  }

  async function dispatched(l, tr) {
    await api('POST', `/v1/letters/${encodeURIComponent(l.id)}/dispatched`);
    tr.remove();
    lettersShown();
    const who = (l.recipient && l.recipient.name) ? ` to ${l.recipient.name}` : '';
    say(`The ${kindLabel(l.kind)} letter${who} is marked dispatched; its PDF is purged.`, 'ok');
  }

  // ---- tokens (admin) ------------------------------------------------------

  async function loadTokens(more) {
    const seq = ++state.listSeq;
    const epoch = state.epoch;
    const q = new URLSearchParams({ limit: '50' });
    if (more && state.tokenCursor) q.set('cursor', state.tokenCursor);
    const page = await loading(el('tokens-body'), () => api('GET', `/v1/tokens?${q}`));
    if (seq !== state.listSeq || epoch !== state.epoch) return;
    const body = el('tokens-body');
    if (!more) body.replaceChildren();
    for (const tok of page.items || []) body.append(tokenRow(tok));
    state.tokenCursor = page.next_cursor || '';
    show('tokens-more', Boolean(state.tokenCursor));
    show('tokens-empty', body.children.length === 0);
  }

  function tokenRow(tok) {
    const tr = node('tr');
    tr.dataset.testid = 'token-row';
    tr.dataset.id = tok.id;
    if (tok.revoked_at) tr.classList.add('revoked');
    const expired = tok.expires_at && new Date(tok.expires_at).getTime() < Date.now();

    const name = node('td');
    name.append(node('div', tok.name, 'strong'));
    name.append(node('div', tok.id, 'mono small muted'));
    const cells = [
      name,
      node('td', `${tok.role}:${tok.scope}`, 'mono nowrap'),
      node('td', undefined, 'nowrap'),
      node('td', undefined, `nowrap ${expired ? 'deadline-past' : ''}`.trim()),
      node('td', undefined, 'nowrap'),
      node('td', undefined, 'nowrap'),
      node('td', undefined, 'right nowrap'),
    ];
    cells[2].append(time(tok.created_at));
    cells[3].append(tok.expires_at ? time(tok.expires_at) : node('span', 'never', 'muted'));
    cells[4].append(time(tok.last_used_at));
    cells[5].dataset.testid = 'token-revoked';
    cells[5].append(tok.revoked_at ? time(tok.revoked_at) : node('span', '—', 'muted'));
    if (!tok.revoked_at) {
      // Two clicks: the first asks, the second revokes.
      const b = button('Revoke', 'token-revoke', 'btn-danger', () => {
        if (b.dataset.armed !== 'true') {
          b.dataset.armed = 'true';
          b.textContent = 'Confirm revoke';
          return;
        }
        busy(b, 'Could not revoke the token', () => revokeToken(tok, tr));
      });
      b.title = `Revoke the token of ${tok.name}: its next request is refused`;
      cells[6].append(b);
    }
    tr.append(...cells);
    label(tr, 'tokens-body');
    return tr;
  }

  async function revokeToken(tok, tr) {
    const revoked = await api('POST', `/v1/tokens/${encodeURIComponent(tok.id)}/revoke`);
    tr.replaceWith(tokenRow(revoked));
    say(`The token of ${revoked.name} is revoked; its next request is refused.`, 'ok');
  }

  // createToken shows the new token once, in its own box, until the admin
  // dismisses it or signs out; the list shows it without the token.
  async function createToken() {
    const role = el('token-role').value;
    const scope = el('token-scope').value.trim();
    const ttl = el('token-ttl').value.trim();
    const name = el('token-name').value.trim();
    if (!scope) {
      say(`Enter the token's scope: ${SCOPE_HINTS[role] || 'its scope'}.`, 'error');
      el('token-scope').focus();
      return;
    }
    const body = { role, scope };
    if (name) body.name = name;
    if (ttl) body.ttl = ttl;
    const created = await api('POST', '/v1/tokens', { body });
    el('token-form').reset();
    scopeHint();
    el('token-created-name').textContent = created.name;
    el('token-created-value').value = created.token;
    show('token-created', true);
    el('token-created-value').select();
    say(`A token for ${created.name} (${created.role}:${created.scope}) is created. Copy it now: it is shown only once.`, 'ok');
    await loadTokens(false);
  }

  function forgetCreatedToken() {
    el('token-created-value').value = '';
    el('token-created-name').textContent = '';
    show('token-created', false);
  }

  // scopeHint fills in the scope roles have only one of, and says what the others take.
  function scopeHint() {
    const role = el('token-role').value;
    const input = el('token-scope');
    input.placeholder = SCOPE_HINTS[role] || '';
    if (role === 'admin' || role === 'post') input.value = SCOPE_HINTS[role];
    else if (input.value === 'all' || input.value === 'post') input.value = '';
  }

  // ---- service providers (admin) -------------------------------------------

  async function loadClients(more) {
    const seq = ++state.listSeq;
    const epoch = state.epoch;
    const q = new URLSearchParams({ limit: '50' });
    if (more && state.oidcCursor) q.set('cursor', state.oidcCursor);
    const page = await loading(el('oidc-body'), () => api('GET', `/v1/oidc/clients?${q}`));
    if (seq !== state.listSeq || epoch !== state.epoch) return;
    const body = el('oidc-body');
    if (!more) body.replaceChildren();
    for (const c of page.items || []) body.append(clientRow(c));
    state.oidcCursor = page.next_cursor || '';
    show('oidc-more', Boolean(state.oidcCursor));
    show('oidc-empty', body.children.length === 0);
  }

  function clientRow(c) {
    const tr = node('tr');
    tr.dataset.testid = 'oidc-row';
    tr.dataset.id = c.client_id;
    const uris = node('ul', undefined, 'uri-list');
    for (const u of c.redirect_uris || []) uris.append(node('li', u, 'mono small'));
    const urisCell = node('td');
    urisCell.append(uris);
    const kind = [c.public_authority ? 'public authority' : 'private', c.confidential ? 'confidential' : 'public client'].join(', ');
    const registered = node('td', undefined, 'nowrap');
    registered.append(time(c.created_at));
    tr.append(node('td', c.name, 'strong'), urisCell, node('td', kind), node('td', c.client_id, 'mono small'), registered);
    tr.children[2].dataset.testid = 'oidc-kind';
    label(tr, 'oidc-body');
    return tr;
  }

  // createClient registers a service provider and shows its client_id, and
  // a confidential client's secret once, until the admin dismisses it or
  // signs out; the list never shows a secret.
  async function createClient() {
    const name = el('oidc-name').value.trim();
    const uris = el('oidc-redirects').value.split('\n').map((u) => u.trim()).filter(Boolean);
    const body = {
      name,
      redirect_uris: uris,
      public_authority: el('oidc-public-authority').checked,
      confidential: el('oidc-confidential').checked,
    };
    const created = await api('POST', '/v1/oidc/clients', { body });
    el('oidc-form').reset();
    el('oidc-created-name').textContent = created.name;
    el('oidc-created-id').value = created.client_id;
    el('oidc-created-secret').value = created.client_secret || '';
    show('oidc-created-secret-box', Boolean(created.client_secret));
    show('oidc-created', true);
    (created.client_secret ? el('oidc-created-secret') : el('oidc-created-id')).select();
    say(created.client_secret
      ? `${created.name} is registered. Copy its client secret now: it is shown only once.`
      : `${created.name} is registered as a public client: it uses PKCE and no secret.`, 'ok');
    await loadClients(false);
  }

  function forgetCreatedClient() {
    el('oidc-created-id').value = '';
    el('oidc-created-secret').value = '';
    el('oidc-created-name').textContent = '';
    show('oidc-created-secret-box', false);
    show('oidc-created', false);
  }

  // ---- audit log (admins) --------------------------------------------------

  async function openAudit() {
    showView('audit');
    await loadAudit(false);
  }

  async function loadAudit(more) {
    const seq = ++state.listSeq;
    const epoch = state.epoch;
    const q = new URLSearchParams({ limit: '50' });
    if (state.auditAction) q.set('action', state.auditAction);
    if (more && state.auditCursor) q.set('cursor', state.auditCursor);
    const page = await loading(el('audit-body'), () => api('GET', `/v1/audit?${q}`));
    if (seq !== state.listSeq || epoch !== state.epoch) return;
    const body = el('audit-body');
    if (!more) body.replaceChildren();
    for (const e of page.items || []) body.append(auditRow(e));
    state.auditCursor = page.next_cursor || '';
    show('audit-more', Boolean(state.auditCursor));
    el('audit-empty').textContent = state.auditAction ? `No ${state.auditAction.replace(/_/g, ' ')} entries.` : 'No entries yet.';
    show('audit-empty', body.children.length === 0);
  }

  function auditRow(e) {
    const tr = node('tr');
    tr.dataset.testid = 'audit-row';
    tr.dataset.seq = String(e.seq);
    const seq = node('td', e.seq, 'mono right');
    seq.title = `hash ${e.hash}`;
    const at = node('td', undefined, 'nowrap');
    at.append(time(e.at, '', whenToTheSecond));
    const actor = node('td');
    actor.append(node('div', e.actor, 'mono small'));
    if (e.actor_name) actor.append(node('div', e.actor_name));
    tr.append(seq, at, actor, node('td', String(e.action || '').replace(/_/g, ' ')), node('td', e.target, 'mono small'),
      node('td', e.outcome));
    tr.children[3].dataset.testid = 'audit-action-cell';
    label(tr, 'audit-body');
    return tr;
  }

  function auditFilterOptions() {
    el('audit-action').append(...AUDIT_ACTIONS.map((a) => {
      const o = node('option', a.replace(/_/g, ' '));
      o.value = a;
      return o;
    }));
  }

  // ---- wiring --------------------------------------------------------------

  function onSubmit(id, doing, handler) {
    el(id).addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(ev.currentTarget.querySelector('button[type="submit"]'), doing, handler);
    });
  }

  function onClick(id, doing, handler) {
    el(id).addEventListener('click', (ev) => busy(ev.currentTarget, doing, handler));
  }

  // The message box gets a dismiss button; it is built here, like every
  // other element the script adds.
  function addDismiss() {
    const x = node('button', '\u00d7', 'message-dismiss');
    x.type = 'button';
    x.title = 'Dismiss';
    x.setAttribute('aria-label', 'Dismiss message');
    x.addEventListener('click', clearMessage);
    el('message').append(x);
  }

  // ---- A day at my centre (caseworkers) ------------------------------------

  const clock = new Intl.DateTimeFormat('en-GB', { timeStyle: 'short', timeZone: 'Europe/Copenhagen' });
  // A YYYY-MM-DD date is read at noon UTC and shown in UTC: the same day in every time zone.
  const dayName = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

  // copenhagenDate is today's date in Copenhagen, as YYYY-MM-DD.
  function copenhagenDate() {
    return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Copenhagen', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  }

  // dayDate is the day the card shows: the date input's, today in
  // Copenhagen when the input is empty (at sign-in, or cleared).
  function dayDate() {
    const input = el('day-date');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(input.value)) input.value = copenhagenDate();
    return input.value;
  }

  // loadDay lists the centre's appointments of the chosen day; the heading
  // says which day that is.
  async function loadDay() {
    const date = dayDate();
    const seq = ++state.daySeq;
    const epoch = state.epoch;
    const title = date === copenhagenDate() ? 'Today at my centre' : `${dayName.format(new Date(`${date}T12:00:00Z`))} at my centre`;
    const res = await api('GET', `/v1/appointments?date=${encodeURIComponent(date)}`);
    if (seq !== state.daySeq || epoch !== state.epoch) return; // another day was chosen meanwhile, or a sign-out
    el('day-title').textContent = title;
    const body = el('day-body');
    body.replaceChildren(...res.items.map(dayRow));
    show('day-empty', res.items.length === 0);
    if (state.checkingIn && !res.items.some((a) => a.id === state.checkingIn.id)) closeCheckIn();
  }

  function closeCheckIn() {
    state.checkingIn = null;
    show('checkin-form', false);
  }

  function dayRow(a) {
    const tr = node('tr');
    tr.dataset.testid = 'day-row';
    const action = node('td');
    if (a.status === 'booked' && new Date(a.end) > new Date()) {
      action.append(button('Check in', 'day-checkin', '', () => openCheckIn(a)));
    } else if (a.issuance_id) {
      action.append(button('Issuance', 'day-issuance', '', () => busy(null, 'Could not open the issuance', () => openIssuance(a.issuance_id))));
    }
    tr.append(node('td', `${clock.format(new Date(a.start))}–${clock.format(new Date(a.end))}`), node('td', a.cpr_masked),
      node('td', a.status.replace('_', ' '), `badge status-${a.status}`), action);
    label(tr, 'day-body');
    return tr;
  }

  // openCheckIn opens the counter application for a booked person: CPR and
  // centre come from the appointment; the caseworker records the ID shown.
  function openCheckIn(a) {
    state.checkingIn = a;
    el('checkin-who').textContent = `${a.cpr_masked} at ${a.centre}, ${clock.format(new Date(a.start))}`;
    el('checkin-doc-number').value = '';
    el('checkin-questions').checked = false;
    show('checkin-form', true);
    el('checkin-doc-number').focus();
  }

  async function checkIn() {
    const a = state.checkingIn;
    if (!a) return;
    const iss = await api('POST', `/v1/appointments/${encodeURIComponent(a.id)}/check-in`, {
      body: {
        documents: [{ type: el('checkin-doc-type').value, number: el('checkin-doc-number').value.trim(), expires: el('checkin-doc-expires').value }],
        check_questions_passed: el('checkin-questions').checked,
      },
    });
    closeCheckIn();
    say(`Checked in: issuance ${iss.id} accepted.`, 'ok');
    await loadDay();
    await loadIssuances(false);
    await openIssuance(iss.id);
  }

  function start() {
    addDismiss();
    onSubmit('signin-form', 'Could not sign in', () => {
      const token = el('token-input').value.trim();
      if (!token) {
        say('Enter your API token.', 'error');
        return undefined;
      }
      return signIn(token);
    });
    onSubmit('cancel-form', 'Could not cancel the issuance', cancelSelected);
    onSubmit('unlock-form', 'Could not unlock', unlock);
    onSubmit('find-form', 'Could not find the NemID', findCredential);
    onSubmit('block-form', 'Could not block the NemID', blockCredential);
    onSubmit('unblock-form', 'Could not unblock the NemID', unblockCredential);
    onSubmit('pickup-form', 'Could not confirm the pickup', confirmPickup);
    onSubmit('signature-form', 'Could not upgrade to public digital signature', upgradeSignature);
    onSubmit('checkin-form', 'Could not check in', checkIn);
    onClick('day-refresh', 'Could not load the appointments', loadDay);
    el('day-date').addEventListener('change', () => busy(null, 'Could not load the appointments', loadDay));
    el('signout').addEventListener('click', signOut);
    el('status-filter').addEventListener('change', (ev) => {
      state.status = ev.target.value;
      busy(null, 'Could not load the issuances', () => loadIssuances(false));
    });
    onClick('refresh', 'Could not refresh', async () => {
      await loadIssuances(false);
      if (state.selected) await openIssuance(state.selected.id);
    });
    onClick('load-more', 'Could not load more issuances', () => loadIssuances(true));
    onClick('handover', 'Could not print the handover document', printHandover);
    el('detail-close').addEventListener('click', closeDetail);
    onClick('letters-refresh', 'Could not load the letters', () => loadLetters(false));
    onClick('fees-refresh', 'Could not load the fees', loadFees);
    onClick('letters-more', 'Could not load more letters', () => loadLetters(true));
    onSubmit('token-form', 'Could not create the token', createToken);
    el('token-role').addEventListener('change', scopeHint);
    el('token-created-done').addEventListener('click', forgetCreatedToken);
    onClick('tokens-refresh', 'Could not load the tokens', () => loadTokens(false));
    onClick('tokens-more', 'Could not load more tokens', () => loadTokens(true));
    el('nav-issuances').addEventListener('click', () => {
      showView('issuances');
      busy(null, 'Could not load the issuances', () => loadIssuances(false));
    });
    el('nav-tokens').addEventListener('click', () => {
      showView('tokens');
      busy(null, 'Could not load the tokens', () => loadTokens(false));
    });
    onSubmit('oidc-form', 'Could not register the service provider', createClient);
    el('oidc-created-done').addEventListener('click', forgetCreatedClient);
    onClick('oidc-refresh', 'Could not load the service providers', () => loadClients(false));
    onClick('oidc-more', 'Could not load more service providers', () => loadClients(true));
    el('nav-oidc').addEventListener('click', () => {
      showView('oidc');
      busy(null, 'Could not load the service providers', () => loadClients(false));
    });
    el('nav-audit').addEventListener('click', () => busy(null, 'Could not load the audit log', openAudit));
    auditFilterOptions();
    photoIDOptions();
    el('audit-action').addEventListener('change', (ev) => {
      state.auditAction = ev.target.value;
      busy(null, 'Could not load the audit log', () => loadAudit(false));
    });
    onClick('audit-refresh', 'Could not load the audit log', () => loadAudit(false));
    onClick('audit-more', 'Could not load more entries', () => loadAudit(true));

    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      busy(null, 'Could not sign in', () => signIn(saved)); // a reload keeps the tab signed in
    } else {
      showSignIn();
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
