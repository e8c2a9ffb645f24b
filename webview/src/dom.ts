// Small DOM helpers for the panels. Text goes in through textContent only, never as HTML: run
// files come from devices and may hold anything.

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c);
  }
  return node;
}

/** A table with a header row; `align` right-aligns numeric columns. */
export function table(headers: string[], rows: string[][], align?: Array<'left' | 'right'>): HTMLTableElement {
  const t = el('table');
  const head = t.createTHead().insertRow();
  headers.forEach((h, c) => {
    const th = el('th', align?.[c] === 'right' ? { class: 'num' } : {}, h);
    head.append(th);
  });
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    r.forEach((cell, c) => {
      const td = tr.insertCell();
      td.textContent = cell;
      if (align?.[c] === 'right') td.className = 'num';
    });
  }
  return t;
}
