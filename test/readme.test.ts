// The README's "Using it" walk-through is true: its curl commands, sent in order to the app, get exactly the
// answers the README prints (the `# -> STATUS BODY` lines and the JSON block after "The last answers:").
import { describe, expect, it } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { useTestApp } from "./support/database.ts";

const t = useTestApp();

interface Curl {
  method: string;
  path: string;
  body?: string;
  /** What the README says it answers: `# -> 201 {...}`, and `(the same ... again -> 200 {...})`. */
  answers: { status: number; body: unknown }[];
}

/** The fenced blocks of one language in a markdown text. */
const blocks = (markdown: string, language: string) =>
  [...markdown.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g"))].map((match) => match[1] as string);

/** The shell's lines: backslash continuations joined, and a quoted body kept whole across its lines. */
function logicalLines(script: string): string[] {
  const lines: string[] = [];
  let current = "";
  for (const line of script.replace(/\\\n\s*/g, " ").split("\n")) {
    if (!current && line.startsWith("#")) {
      lines.push(line); // a comment: its apostrophes are words, not quotes
      continue;
    }
    current = current ? `${current}\n${line}` : line;
    const isQuoteOpen = (current.match(/'/g) ?? []).length % 2 === 1;
    if (!isQuoteOpen) {
      lines.push(current);
      current = "";
    }
  }
  return lines;
}

/** The curl commands of a shell block, with the answers the comments after each promise. */
function curls(script: string): Curl[] {
  const commands: Curl[] = [];
  for (const command of logicalLines(script)) {
    const promised = [...command.matchAll(/-> (\d{3}) (\{[^}]*\})/g)];
    if (command.startsWith("#") && promised.length > 0) {
      const last = commands.at(-1);
      for (const [, status, body] of promised)
        last?.answers.push({ status: Number(status), body: JSON.parse(body as string) });
      continue;
    }
    if (!command.startsWith("curl ")) continue;
    const url = command.match(/"?(http:\/\/localhost:3000[^"\s]*)"?/)?.[1] as string;
    const data = command.match(/-d '([^']*)'/)?.[1];
    commands.push({
      method: command.match(/-X (\w+)/)?.[1] ?? (data ? "POST" : "GET"),
      path: url.replace("http://localhost:3000", ""),
      body: data,
      answers: [],
    });
  }
  return commands;
}

describe("README.md", () => {
  it("answers its curl examples exactly as it says", async () => {
    const readme = await readFile(join(import.meta.dir, "..", "README.md"), "utf8");
    const walk = readme.slice(readme.indexOf("## Using it"));
    const commands = curls(blocks(walk, "bash")[0] as string);
    expect(commands.length).toBeGreaterThanOrEqual(5);
    expect(commands.some((command) => command.answers.length > 0)).toBe(true);
    const lastAnswer = JSON.parse(blocks(walk, "json")[0] as string);

    let last: { status: number; body: unknown } | undefined;
    for (const command of commands) {
      const send = async () => {
        const response = await t.app.request(command.path, {
          method: command.method,
          headers: command.body ? { "content-type": "application/json" } : {},
          body: command.body,
        });
        return { status: response.status, body: await response.json() };
      };
      last = await send();
      expect(last.status, `${command.method} ${command.path}`).toBeLessThan(300);
      for (const [index, promised] of command.answers.entries()) {
        // The first promised answer is this request's; each further one is the same request again.
        const answer = index === 0 ? last : await send();
        expect(answer, `${command.method} ${command.path}`).toEqual(promised);
      }
    }
    expect(last?.body).toEqual(lastAnswer);
  });
});
