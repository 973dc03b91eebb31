import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeAgent, INIT } from './helpers.js';

test('nothing is sent before init, then queued calls go out with the first flush', () => {
  const { agent, sent } = fakeAgent();
  agent.call('conversion', { value: 49.95, currency: 'EUR' });
  agent.flush();
  assert.equal(sent.length, 0);
  agent.call('init', INIT);
  agent.vital('ttfb', 123.4);
  agent.flush();
  assert.equal(sent.length, 1);
  const env = sent[0];
  assert.equal(env.v, 1);
  assert.equal(env.site, 'shop-eu');
  assert.equal(env.seq, 0);
  assert.deepEqual(env.vitals, { ttfb: 123 });
  assert.deepEqual(env.nav, { type: 'navigate', dns: 5, load: 900 });
  assert.equal(env.events?.[0].t, 'conversion');
  assert.equal(env.events?.[0].value, 49.95);
});

test('each vital and event is sent once; empty flushes send nothing', () => {
  const { agent, sent } = fakeAgent();
  agent.call('init', INIT);
  agent.vital('fcp', 800);
  agent.flush();
  agent.flush();
  agent.vital('lcp', 2100);
  agent.vital('cls', 0.123456);
  agent.call('login', { success: false, reason: 'invalid_password' });
  agent.flush();
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1].vitals, { lcp: 2100, cls: 0.1235 });
  assert.equal(sent[1].seq, 1);
  assert.equal(sent[1].nav, undefined, 'navigation timing only on the first flush');
  assert.deepEqual(sent[1].events?.map((e) => [e.t, e.success, e.reason]),
                   [['login', false, 'invalid_password']]);
});

test('URLs lose query strings and fragments unless allowed', () => {
  const { agent, sent } = fakeAgent();
  agent.call('init', { ...INIT, allowQueryParams: ['utm_*'] });
  agent.vital('ttfb', 1);
  agent.flush();
  assert.equal(sent[0].url, 'https://shop.example.com/product/42?utm_source=mail');
  assert.equal(sent[0].ref, 'https://www.google.com/search');
});

test('consent(false) stops everything; GPC is honoured when asked', () => {
  const one = fakeAgent();
  one.agent.call('init', INIT);
  one.agent.call('conversion', { value: 1 });
  one.agent.call('consent', false);
  one.agent.vital('lcp', 1000);
  one.agent.flush();
  assert.equal(one.sent.length, 0);
  const two = fakeAgent({ gpc: () => true });
  two.agent.call('init', { ...INIT, respectGPC: true });
  two.agent.vital('lcp', 1000);
  two.agent.flush();
  assert.equal(two.sent.length, 0);
});

test('sampling is decided once per session and the rate is sent', () => {
  const out = fakeAgent({ random: () => 0.9 });
  out.agent.call('init', { ...INIT, sampleRate: 0.5 });
  out.agent.vital('lcp', 1000);
  out.agent.flush();
  assert.equal(out.sent.length, 0, 'not sampled');
  assert.equal(out.store['rum:sampled'], '0');
  const kept = fakeAgent({ random: () => 0.1 });
  kept.agent.call('init', { ...INIT, sampleRate: 0.5 });
  kept.agent.vital('lcp', 1000);
  kept.agent.flush();
  assert.equal(kept.sent[0].sample_rate, 0.5);
  assert.equal(kept.store['rum:sid'], kept.sent[0].sid);
});

test('failed API calls and login detection from requests', () => {
  const { agent, sent } = fakeAgent();
  agent.call('init', { ...INIT, login: { url: '/api/login' } });
  agent.request({ method: 'GET', url: 'https://shop.example.com/api/cart?id=1', status: 503, duration: 80.6 });
  agent.request({ method: 'GET', url: '/api/ok', status: 200, duration: 5 });
  agent.request({ method: 'POST', url: '/api/login', status: 401, duration: 30 });
  agent.request({ method: 'POST', url: 'https://shop.example.com/api/login?next=/', status: 200, duration: 30 });
  agent.request({ method: 'GET', url: '/api/x', status: 0, duration: 1 });
  agent.request({ method: 'POST', url: INIT.endpoint, status: 0, duration: 1 });
  agent.flush();
  const events = sent[0].events ?? [];
  assert.deepEqual(events.map((e) => [e.t, e.status ?? e.success, e.url ?? e.reason]), [
    ['api', 503, 'https://shop.example.com/api/cart'],
    ['login', false, 'http_401'],
    ['login', true, ''],
    ['api', 0, '/api/x'],
  ]);
});

test('errors are de-duplicated and capped per page view, stacks trimmed', () => {
  const { agent, sent } = fakeAgent();
  agent.call('init', INIT);
  for (let i = 0; i < 5; i++) agent.error('boom', 'https://a/app.js?v=1', 1, 2, 'x\n'.repeat(50));
  for (let i = 0; i < 40; i++) agent.error('e' + i, '', 0, 0, '');
  agent.flush();
  const errors = (sent[0].events ?? []).filter((e) => e.t === 'error');
  assert.equal(errors.length, 20);
  assert.equal(errors[0].source, 'https://a/app.js');
  assert.equal(String(errors[0].stack).split('\n').length, 10);
});

test('a soft navigation flushes the old view and starts a new one', () => {
  const { agent, sent } = fakeAgent();
  agent.call('init', INIT);
  agent.vital('lcp', 1500);
  agent.route('https://shop.example.com/cart');
  agent.call('event', 'checkout_step', { step: 2, nested: { no: 1 } });
  agent.flush();
  assert.equal(sent.length, 2);
  assert.notEqual(sent[0].pid, sent[1].pid);
  assert.equal(sent[1].seq, 0);
  assert.deepEqual(sent[1].nav, { type: 'soft' });
  assert.equal(sent[1].url, 'https://shop.example.com/cart');
  assert.deepEqual(sent[1].events?.[0].props, { step: 2 });
});

test('rage clicks and long tasks fill perf', () => {
  const { agent, sent, tick } = fakeAgent();
  agent.call('init', INIT);
  const button = {};
  for (let i = 0; i < 4; i++) { agent.rageClick(button); tick(100); }
  tick(5000);
  agent.rageClick(button);
  agent.longTask(120);
  agent.longTask(40);
  agent.flush();
  assert.deepEqual(sent[0].perf, { long_tasks: 2, tbt: 70, rage_clicks: 1 });
});

test('bad calls are ignored, not thrown', () => {
  const { agent, sent } = fakeAgent();
  agent.call('init', { site: 5 });
  agent.call('init', INIT);
  agent.call('conversion', { value: 'lots' });
  agent.call('event', '');
  agent.call('nonsense');
  agent.vital('lcp', -3);
  agent.flush();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].events, undefined);
});

test('vitals reported after a soft navigation still belong to the document view', () => {
  const { agent, sent } = fakeAgent();
  agent.call('init', INIT);
  agent.flush();
  agent.route('https://shop.example.com/cart');
  agent.vital('lcp', 2400);
  agent.vital('inp', 90);
  agent.call('conversion', { value: 3 });
  agent.flush();
  const [first, late, cart] = sent;
  assert.equal(late.pid, first.pid, 'same page view as the document');
  assert.deepEqual(late.vitals, { lcp: 2400, inp: 90 });
  assert.equal(late.events, undefined);
  assert.equal(cart.vitals, undefined);
  assert.equal(cart.events?.[0].t, 'conversion');
  assert.deepEqual(cart.nav, { type: 'soft' });
});
