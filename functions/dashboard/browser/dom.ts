/// <reference lib="dom" />
// Building the page's tables from data: text is always set as text, never parsed as HTML (event data is input).

type Child = Node | string | number | undefined | null | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replaces a table body's rows. */
export function fillTable(id: string, rows: HTMLTableRowElement[], empty: string): void {
  const body = document.querySelector<HTMLTableSectionElement>(`#${id} tbody`);
  if (!body) return;
  const columns = document.querySelectorAll(`#${id} thead th`).length || 1;
  body.replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: String(columns) }, empty))]));
}

export const row = (cells: Child[], attrs: Record<string, string> = {}) =>
  el("tr", attrs, ...cells.map((cell) => el("td", {}, cell)));

export const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
