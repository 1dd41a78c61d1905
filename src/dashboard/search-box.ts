/// <reference lib="dom" />
// The search box: finds vehicles and meters by id (whole or its start) or name through
// /v1/search as the reader types, lists them by name and id, and opens one on a click or
// Enter (the first). Answers arriving out of order never replace a newer list.
import { api, describeFailure } from "./api.ts";
import { $, deviceLink, element } from "./dom.ts";
import type { SearchResult } from "./types.ts";

const WAIT_MS = 200;

let asked = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

function show(results: SearchResult[] | string) {
  const list = $("search-results");
  if (typeof results === "string") {
    list.replaceChildren(element("li", { class: "empty" }, results));
  } else {
    list.replaceChildren(
      ...(results.length === 0
        ? [element("li", { class: "empty" }, "Nothing found by that id or name.")]
        : results.map((result) =>
            element(
              "li",
              { "data-kind": result.kind },
              element("span", { class: "kind" }, result.kind),
              deviceLink(result.kind, result.id, result.name),
            ),
          )),
    );
  }
  list.hidden = false;
}

async function find(q: string) {
  const mine = ++asked;
  try {
    const { results } = await api<{ results: SearchResult[] }>(`/v1/search?q=${encodeURIComponent(q)}&limit=10`);
    if (mine === asked) show(results);
  } catch (error) {
    if (mine === asked) show(describeFailure(error));
  }
}

export function hideResults() {
  $("search-results").hidden = true;
}

export function startSearch() {
  const input = $<HTMLInputElement>("search");
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) {
      asked++;
      hideResults();
      return;
    }
    timer = setTimeout(() => void find(q), WAIT_MS);
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const first = $("search-results").querySelector<HTMLAnchorElement>("a.device");
    if (first && !$("search-results").hidden) first.click();
    else if (input.value.trim()) void find(input.value.trim());
  });
  $("search-results").addEventListener("click", (event) => {
    if ((event.target as HTMLElement).closest("a")) {
      hideResults();
      input.value = "";
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") hideResults();
  });
}
