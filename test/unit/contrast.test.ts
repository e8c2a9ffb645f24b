// Percentile markers on the result panel's histogram: legible on the theme's background (WCAG
// contrast ratio checked numerically) and labelled above the plot, never on the bars.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contrastRatio, legibleOn, markerBandPx, markerLabelY, MIN_MARKER_CONTRAST, parseRgb } from '../../webview/src/contrast';

const ratio = (a: string, b: string) => contrastRatio(parseRgb(a)!, parseRgb(b)!);

describe('marker contrast', () => {
  it('computes WCAG contrast ratios', () => {
    assert.equal(Math.round(ratio('#000000', '#ffffff') * 10) / 10, 21);
    assert.equal(ratio('#777777', '#777777'), 1);
    assert.deepEqual(parseRgb('rgba(10, 20, 30, 0.5)'), [10, 20, 30]);
    assert.equal(parseRgb('var(--x)'), null);
  });

  // Dark brown on near-black (what a dark theme's orange came out as), a dim red, and pale colours
  // on a light theme: each is brought to the minimum, keeping its hue direction.
  const cases: Array<[string, string]> = [
    ['#5c3a1e', '#1e1e1e'],
    ['#6b2b06', '#181818'],
    ['#8b1a1a', '#000000'],
    ['#89d185', '#ffffff'],
    ['#cca700', '#f3f3f3'],
  ];
  for (const [colour, bg] of cases) {
    it(`makes ${colour} legible on ${bg}`, () => {
      assert.ok(ratio(colour, bg) < MIN_MARKER_CONTRAST, 'the case starts illegible');
      const fixed = legibleOn(colour, bg);
      assert.ok(ratio(fixed, bg) >= MIN_MARKER_CONTRAST, `${fixed} on ${bg}: ${ratio(fixed, bg).toFixed(2)}`);
      assert.notEqual(fixed, '#ffffff');
      assert.notEqual(fixed, '#000000');
    });
  }

  it('leaves colours that already contrast, and syntaxes it cannot read, as they are', () => {
    assert.equal(legibleOn('#f14c4c', '#1e1e1e'), '#f14c4c');
    assert.equal(legibleOn('var(--x)', '#1e1e1e'), 'var(--x)');
  });
});

describe('marker labels', () => {
  it('sit in the band above the plot area, one line each, inside the reserved padding', () => {
    const n = 3;
    const plotTop = 100;
    const band = markerBandPx(n);
    const ys = [0, 1, 2].map((i) => markerLabelY(i, n, plotTop));
    for (const y of ys) {
      assert.ok(y < plotTop, `label baseline ${y} is above the plot (bars start at ${plotTop})`);
      // A label is ~12 px tall: its top stays inside the padding reserved for the band.
      assert.ok(y - 12 >= plotTop - band, `label top ${y - 12} inside the band from ${plotTop - band}`);
    }
    assert.equal(new Set(ys).size, n, 'labels do not overlap');
  });
});
