import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRageClickDetector } from '../src/lib/createRageClickDetector.js';
import { scrubUrl } from '../src/lib/scrubUrl.js';
import { trimEnvelope } from '../src/lib/trimEnvelope.js';
import type { Envelope } from '../src/types.js';

test('scrubUrl', () => {
  assert.equal(scrubUrl('https://a/b?x=1&utm_source=y#f'), 'https://a/b');
  assert.equal(scrubUrl('https://a/b?x=1&utm_source=y', ['utm_*']), 'https://a/b?utm_source=y');
  assert.equal(scrubUrl('https://a/b?x=1', ['x']), 'https://a/b?x=1');
  assert.equal(scrubUrl('/p?%E0%A4%A=1'), '/p');
  assert.equal(scrubUrl('/p?utm_a=1&utm_b=2#x', ['utm_*']), '/p?utm_a=1&utm_b=2');
});

test('trimEnvelope keeps the payload under the budget: stacks first, then oldest events', () => {
  const events = Array.from({ length: 50 }, (_, i) => ({
    t: 'error' as const, ts: i, message: 'm' + i, stack: 's'.repeat(2000) }));
  const env: Envelope = { v: 1, site: 's', sid: 'a', pid: 'b', seq: 0, sent_at: 1, url: '/', events };
  const body = trimEnvelope(env, 60000);
  const parsed = JSON.parse(body) as Envelope;
  assert.ok(body.length <= 60000);
  assert.equal(parsed.events?.length, 50, 'dropping stacks was enough');
  assert.equal(parsed.events?.[0].stack, undefined);
  const big = { ...env, events: events.map((e) => ({ ...e, message: 'x'.repeat(1000) })) };
  const small = JSON.parse(trimEnvelope(big, 20000)) as Envelope;
  assert.ok((small.events?.length ?? 0) < 50);
  assert.equal(small.events?.[small.events.length - 1].ts, 49, 'the newest are kept');
});

test('rage clicks count once per burst on one element', () => {
  const click = createRageClickDetector(3, 1000);
  const a = {};
  const b = {};
  assert.deepEqual([click(a, 0), click(a, 100), click(a, 200), click(a, 300)],
                   [false, false, true, false]);
  assert.equal(click(b, 400), false, 'another element starts over');
  assert.deepEqual([click(a, 5000), click(a, 5100), click(a, 5200)], [false, false, true]);
  assert.deepEqual([click(a, 9000), click(a, 10500), click(a, 10600)], [false, false, false],
                   'clicks further apart than the window are no burst');
});
