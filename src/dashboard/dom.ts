/// <reference lib="dom" />
// Small DOM helpers both views build with: find by id, make an element, a figure card,
// and the message box. Elements are built, never parsed from HTML strings, so text from
// the API cannot become markup.

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A labelled figure; data-figure and data-value carry the unrounded number for tests and tools. */
export function card(label: string, value: string, figure?: string, raw?: number | null) {
  const attributes: Record<string, string> = { class: "value" };
  if (figure) attributes["data-figure"] = figure;
  if (raw !== undefined) attributes["data-value"] = String(raw);
  return element(
    "div",
    { class: "card" },
    element("div", { class: "label" }, label),
    element("div", attributes, value),
  );
}

export function showMessage(text: string | undefined) {
  const box = $("message");
  box.hidden = !text;
  box.textContent = text ?? "";
}
