// The public booking page: a centre, a day, a free time, the person's CPR
// number and e-mail, then the code sent to that e-mail. Plain JavaScript,
// no framework, no inline code (the page's CSP forbids it).
(() => {
  'use strict';
  const el = (id) => document.querySelector(`[data-testid="${id}"]`);
  const show = (id, visible) => { el(id).hidden = !visible; };
  const clock = new Intl.DateTimeFormat('en-GB', { timeStyle: 'short', timeZone: 'Europe/Copenhagen' });
  const state = { start: '', reference: '' };

  async function api(method, path, body) {
    const init = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = data.error || {};
      const details = (e.details || []).map((d) => d.message).join(' ');
      throw new Error(`${e.message || `The server answered ${res.status}.`} ${details}`.trim());
    }
    return data;
  }

  function say(text, kind) {
    const m = el('message');
    m.textContent = text;
    m.className = `message ${kind}`;
    m.hidden = false;
  }

  function today() {
    return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Copenhagen', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  }

  async function loadCentres() {
    const res = await api('GET', '/v1/centres');
    el('centre').replaceChildren(...res.items.map((c) => {
      const o = document.createElement('option');
      o.value = c.code;
      o.textContent = `${c.name}, ${c.city}`;
      return o;
    }));
    el('day').value = today();
  }

  async function showSlots() {
    const day = el('day').value;
    const res = await api('GET', `/v1/centres/${encodeURIComponent(el('centre').value)}/slots?from=${day}&to=${day}`);
    el('slots').replaceChildren(...res.items.map((s) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'btn';
      b.dataset.testid = 'slot';
      b.textContent = `${clock.format(new Date(s.start))} (${s.free} free)`;
      b.addEventListener('click', () => choose(s));
      return b;
    }));
    show('slots-empty', res.items.length === 0);
  }

  function choose(s) {
    state.start = s.start;
    el('chosen').textContent = `${el('centre').selectedOptions[0].textContent}, ${el('day').value} at ${clock.format(new Date(s.start))}`;
    show('book-box', true);
    el('cpr').focus();
  }

  async function book() {
    const res = await api('POST', '/v1/bookings', {
      cpr: el('cpr').value.trim(), centre: el('centre').value, start: state.start, contact: { email: el('email').value.trim() },
    });
    state.reference = res.reference;
    show('book-box', false);
    show('confirm-box', true);
    say('We sent a confirmation code to your e-mail.', 'ok');
    el('code').focus();
  }

  async function confirm() {
    await api('POST', `/v1/bookings/${encodeURIComponent(state.reference)}/confirm`, { code: el('code').value.trim() });
    show('pick-box', false);
    show('confirm-box', false);
    el('reference').textContent = state.reference;
    show('done-box', true);
    say('Booked.', 'ok');
  }

  function onSubmit(id, work) {
    el(id).addEventListener('submit', (ev) => {
      ev.preventDefault();
      el('message').hidden = true;
      work().catch((err) => say(err.message, 'error'));
    });
  }

  onSubmit('day-form', showSlots);
  onSubmit('book-form', book);
  onSubmit('confirm-form', confirm);
  loadCentres().catch((err) => say(err.message, 'error'));
})();
