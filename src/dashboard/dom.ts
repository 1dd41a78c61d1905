/// <reference lib="dom" />
// Small DOM helpers the views build with: find by id, make an element, a figure card, a
// device's name and id, a date with its UTC twin on hover, and the message box. Elements
// are built, never parsed from HTML strings, so text from the API cannot become markup.
import { format, isShowingUtc } from "./format.ts";
import { linkTo } from "./place.ts";

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

/**
 * A device as the reader knows it: its name (or, without one, the start of its id) over
 * its whole id, linked to its view. data-device carries the id for tests and tools.
 */
export function deviceLink(kind: "vehicle" | "meter", id: string, name: string | null) {
  return element(
    "a",
    { href: linkTo(kind, id), class: "device", "data-device": id, title: name ? `${name} (${id})` : id },
    element("span", { class: name ? "name" : "name unnamed" }, name ?? `${id.slice(0, 8)}…`),
    element("span", { class: "id" }, id),
  );
}

/** A date in the page's zone; hovering shows it in UTC (or in local time when showing UTC). */
export function timeText(iso: string) {
  const other = isShowingUtc() ? new Date(iso).toString() : format.utcInstant(iso);
  return element("time", { datetime: iso, title: other }, format.instant(iso));
}
