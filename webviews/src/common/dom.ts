/**
 * Building DOM from untrusted text: every string goes in as a text node (`textContent`), never
 * through innerHTML, so model output, command output and file contents cannot become markup.
 */

type Child = Node | string | null | undefined | false;

/** `h('div', {class: 'row', title: t}, child…)`: attributes are set with setAttribute, children appended as nodes or text. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Record<string, string | number | boolean | undefined>,
  ...children: Child[]
): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Record<string, string | number | boolean | undefined>, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (/^on/i.test(k)) throw new Error(`h(): event attributes are not allowed (${k}); use addEventListener`);
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Removes every child of `el`. */
export function clear(el: Element): void {
  el.replaceChildren();
}
