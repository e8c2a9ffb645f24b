import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verdictOf, type Finding } from '../../contract/validity.js';

const finding = (severity: Finding['severity']): Finding => ({
  code: `x-${severity}`,
  severity,
  summary: 's',
  evidence: { n: 1 },
  why: 'w',
  fix: 'f',
});

test('verdictOf is ok without findings and the worst severity otherwise', () => {
  assert.equal(verdictOf([]).verdict, 'ok');
  assert.equal(verdictOf([finding('caution')]).verdict, 'caution');
  assert.equal(verdictOf([finding('caution'), finding('unreliable'), finding('caution')]).verdict, 'unreliable');
  assert.deepEqual(verdictOf([], ['telemetry: no source']).notChecked, ['telemetry: no source']);
  assert.equal(verdictOf([], []).notChecked, undefined);
});
