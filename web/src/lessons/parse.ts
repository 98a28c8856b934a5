// Lesson parser: untrusted Markdown text -> a Lesson or a clear error, never an exception.
// Pure (no DOM, no model): front matter (a small, bounded YAML subset), steps (one per `## `
// heading) and directives (`:::name args` ... `:::`). A broken directive becomes an "error"
// block that the lesson shows as a message; it never stops the rest of the lesson.
import {
  ANSWERS, COMPARATORS, DIRECTIVES, INPUTS, LIMITS, METRICS, VIEWS, isOneOf,
  type AnswerName, type Comparator, type InputName, type MetricName, type ViewName,
} from "./table";
import { parseReceiverList } from "../state/experiment";

export type LessonInputs = Partial<Record<InputName, string>>;

export interface QuestionBlock {
  kind: "question"; id: string; ask: string; answer: AnswerName; tolerance: number;
  hints: string[]; explain: string; expect?: string;
}
export interface YourTurnBlock {
  kind: "yourturn"; id: string; task: string; edit: InputName; metric: MetricName;
  comparator: Comparator; threshold: number; hints: string[]; explain: string;
}
export type Block =
  | { kind: "text"; markdown: string }
  | { kind: "view"; view: ViewName; params: Record<string, string> }
  | QuestionBlock
  | YourTurnBlock
  | { kind: "error"; message: string; source: string };

export interface Step { title: string; blocks: Block[] }
export interface Lesson {
  title: string;
  models: string[];
  inputs: LessonInputs;
  /** model name -> inputs and `<question id>` expected answers that replace the defaults there. */
  overrides: Record<string, Record<string, string>>;
  steps: Step[];
}
export type ParseResult = { ok: true; lesson: Lesson } | { ok: false; error: string };

class LessonError extends Error {}
const fail = (message: string): never => { throw new LessonError(message); };

export function parseLesson(text: unknown): ParseResult {
  try {
    if (typeof text !== "string") fail("a lesson is a text file");
    const source = text as string;
    if (source.length > LIMITS.maxChars) fail(`the lesson is ${source.length} characters; at most ${LIMITS.maxChars}`);
    const { front, body } = splitFrontMatter(source.replace(/\r\n?/g, "\n"));
    const lesson = lessonHeader(parseFrontMatter(front));
    lesson.steps = parseSteps(body);
    return { ok: true, lesson };
  } catch (e) {
    if (e instanceof LessonError) return { ok: false, error: e.message };
    return { ok: false, error: `the lesson could not be read (${String((e as Error)?.message ?? e).slice(0, 200)})` };
  }
}

function splitFrontMatter(text: string): { front: string; body: string } {
  if (!text.startsWith("---\n")) fail("a lesson starts with front matter: a line '---', 'title: ...', 'models: [...]', then '---'");
  const end = text.indexOf("\n---\n", 3);
  const endAtEof = text.endsWith("\n---") ? text.length - 4 : -1;
  const close = end >= 0 ? end : endAtEof;
  if (close < 0) fail("the front matter is not closed by a line '---'");
  return { front: text.slice(4, close), body: text.slice(close + 5) };
}

type FrontValue = string | string[] | Record<string, Record<string, string>>;

/** `key: value`, `key: [a, b]`, `key: "json string"`, and one nested map (overrides: model: key: value). */
function parseFrontMatter(front: string): Map<string, FrontValue> {
  const out = new Map<string, FrontValue>();
  let nested: Record<string, Record<string, string>> | null = null;
  let model: string | null = null;
  for (const [n, raw] of front.split("\n").entries()) {
    if (!raw.trim() || raw.trimStart().startsWith("#")) continue;
    const indent = raw.length - raw.trimStart().length;
    const m = /^([A-Za-z0-9_.-]+):\s*(.*)$/.exec(raw.trim());
    if (!m) fail(`front matter line ${n + 1}: expected 'key: value'`);
    const [, key, rest] = m!;
    if (indent === 0) {
      nested = null;
      if (out.has(key)) fail(`front matter: '${key}' is set twice`);
      if (rest === "") { nested = {}; out.set(key, nested); continue; }
      out.set(key, frontValue(rest, n));
    } else if (nested && indent <= 2 && rest === "") {
      if (Object.keys(nested).length >= LIMITS.maxModels) fail(`front matter: at most ${LIMITS.maxModels} overrides`);
      model = key; nested[key] = Object.create(null);
    } else if (nested && model && indent > 2) {
      const v = frontValue(rest, n);
      if (typeof v !== "string") fail(`front matter line ${n + 1}: an override is one value`);
      nested[model][key] = v as string;
    } else fail(`front matter line ${n + 1}: unexpected indentation`);
  }
  return out;
}

function frontValue(rest: string, n: number): string | string[] {
  const v = rest.trim();
  if (v.startsWith("[")) {
    if (!v.endsWith("]")) fail(`front matter line ${n + 1}: a list ends with ']'`);
    return v.slice(1, -1).split(",").map((s) => unquote(s.trim(), n)).filter((s) => s.length > 0);
  }
  return unquote(v, n);
}

function unquote(v: string, n: number): string {
  let s = v;
  if (v.startsWith('"')) {
    try { s = JSON.parse(v); } catch { fail(`front matter line ${n + 1}: a quoted value is a JSON string ("...", with \\" inside)`); }
    if (typeof s !== "string") fail(`front matter line ${n + 1}: expected a string`);
  }
  if (s.length > LIMITS.maxFieldChars) fail(`front matter line ${n + 1}: at most ${LIMITS.maxFieldChars} characters`);
  return s;
}

function lessonHeader(front: Map<string, FrontValue>): Lesson {
  const title = front.get("title");
  if (typeof title !== "string" || !title.trim()) fail("front matter: 'title' is required");
  const models = front.get("models");
  if (!Array.isArray(models) || models.length === 0) fail("front matter: 'models: [model, ...]' lists the models the lesson works on");
  if ((models as string[]).length > LIMITS.maxModels) fail(`front matter: at most ${LIMITS.maxModels} models`);
  const inputs: LessonInputs = {};
  for (const [key, value] of front) {
    if (key === "title" || key === "models" || key === "overrides") continue;
    if (!isOneOf(INPUTS, key)) fail(`front matter: unknown key '${key}' (known: title, models, overrides, ${INPUTS.join(", ")})`);
    if (typeof value !== "string") fail(`front matter: '${key}' is one value`);
    inputs[key as InputName] = value as string;
  }
  const overrides = front.get("overrides") ?? {};
  if (typeof overrides !== "object" || Array.isArray(overrides)) fail("front matter: 'overrides' maps model names to values");
  return { title: (title as string).trim(), models: models as string[], inputs, overrides: overrides as Lesson["overrides"], steps: [] };
}

function parseSteps(body: string): Step[] {
  const steps: Step[] = [];
  let current: Step | null = null;
  let lines: string[] = [];
  let directives = 0;
  const flush = () => {
    if (!current) return;
    const parsed = parseBlocks(lines);
    directives += parsed.filter((b) => b.kind !== "text").length;
    if (directives > LIMITS.maxDirectives) fail(`the lesson has more than ${LIMITS.maxDirectives} directives`);
    current.blocks = parsed;
  };
  for (const line of body.split("\n")) {
    const heading = /^## (.+)$/.exec(line);
    if (heading) {
      flush();
      if (steps.length >= LIMITS.maxSteps) fail(`the lesson has more than ${LIMITS.maxSteps} steps`);
      current = { title: heading[1].trim().slice(0, 200), blocks: [] };
      steps.push(current);
      lines = [];
    } else if (current) lines.push(line);
    else if (line.trim()) fail("the lesson body starts with a step heading ('## Step title')");
  }
  flush();
  if (steps.length === 0) fail("the lesson has no steps (each step starts with a '## ' heading)");
  return steps;
}

/** Text between directives stays Markdown; each `:::name args` ... `:::` becomes one block. */
function parseBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let text: string[] = [];
  const flushText = () => { if (text.join("").trim()) blocks.push({ kind: "text", markdown: text.join("\n") }); text = []; };
  for (let i = 0; i < lines.length; i++) {
    const open = /^:::\s*(\S+)(.*)$/.exec(lines[i]);
    if (!open) { text.push(lines[i]); continue; }
    flushText();
    let end = i + 1;
    while (end < lines.length && lines[end].trim() !== ":::") end++;
    const source = lines.slice(i, Math.min(end + 1, lines.length)).join("\n");
    if (end >= lines.length) blocks.push({ kind: "error", message: `':::${open[1]}' is not closed by a line ':::'`, source });
    else blocks.push(directive(open[1], open[2].trim(), lines.slice(i + 1, end), source));
    i = end;
  }
  flushText();
  return blocks;
}

function directive(name: string, args: string, body: string[], source: string): Block {
  try {
    if (!isOneOf(DIRECTIVES, name)) fail(`unknown directive ':::${name}' (known: ${DIRECTIVES.join(", ")})`);
    const fields = directiveFields(body);
    if (name === "view") return viewBlock(args, fields);
    if (name === "question") return questionBlock(args, fields);
    return yourTurnBlock(args, fields);
  } catch (e) {
    if (!(e instanceof LessonError)) throw e;
    return { kind: "error", message: e.message, source: source.slice(0, LIMITS.maxFieldChars) };
  }
}

/** `key: value` lines; `hint` may repeat. */
function directiveFields(body: string[]): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of body) {
    if (!line.trim()) continue;
    const m = /^([a-z-]+):\s?(.*)$/.exec(line.trim());
    if (!m) fail(`expected 'key: value' inside a directive, got '${line.trim().slice(0, 60)}'`);
    if (line.startsWith(":::")) fail("directives do not nest");
    const list = fields.get(m![1]) ?? [];
    if (list.length >= LIMITS.maxHints) fail(`'${m![1]}' is given more than ${LIMITS.maxHints} times`);
    list.push(m![2].slice(0, LIMITS.maxFieldChars));
    fields.set(m![1], list);
  }
  return fields;
}

function one(fields: Map<string, string[]>, key: string, fallback?: string): string {
  const v = fields.get(key);
  if (!v) { if (fallback !== undefined) return fallback; fail(`'${key}:' is required`); }
  if (v!.length > 1) fail(`'${key}:' is given twice`);
  return v![0];
}

function checkKnown(fields: Map<string, string[]>, known: string[]): void {
  for (const key of fields.keys()) if (!known.includes(key)) fail(`unknown field '${key}:' (known: ${known.join(", ")})`);
}

function finiteNumber(text: string, what: string): number {
  const v = Number(text);
  if (!text.trim() || !Number.isFinite(v)) fail(`${what} must be a number, got '${text.slice(0, 40)}'`);
  return v;
}

function viewBlock(args: string, fields: Map<string, string[]>): Block {
  if (!isOneOf(VIEWS, args)) fail(`':::view' names one view (known: ${Object.keys(VIEWS).join(", ")})`);
  checkKnown(fields, ["layer", "head", "position", "k", "receivers"]);
  const params: Record<string, string> = {};
  for (const [k, v] of fields) {
    if (v.length > 1) fail(`'${k}:' is given twice`);
    if (k === "receivers") {
      const read = parseReceiverList(v[0]);
      if ("problem" in read) fail(`'receivers:' ${read.problem}`);
    } else if (!/^-?\d{1,4}$/.test(v[0])) {
      fail(`'${k}:' is a whole number`);
    }
    params[k] = v[0];
  }
  return { kind: "view", view: args as ViewName, params };
}

const ID = /^[a-z][a-z0-9-]{0,31}$/;

function questionBlock(id: string, fields: Map<string, string[]>): QuestionBlock {
  if (!ID.test(id)) fail("':::question <id>' needs an id (lowercase letters, digits, '-')");
  checkKnown(fields, ["ask", "answer", "tolerance", "hint", "explain", "expect"]);
  const answer = one(fields, "answer");
  if (!isOneOf(ANSWERS, answer)) fail(`'answer:' is one of ${Object.keys(ANSWERS).join(", ")}`);
  const tolerance = finiteNumber(one(fields, "tolerance", "0"), "'tolerance:'");
  if (tolerance < 0) fail("'tolerance:' is not negative");
  const expect = fields.has("expect") ? one(fields, "expect") : undefined;
  return { kind: "question", id, ask: one(fields, "ask"), answer: answer as AnswerName, tolerance,
    hints: fields.get("hint") ?? [], explain: one(fields, "explain", ""), ...(expect !== undefined ? { expect } : {}) };
}

/** `until: logit-diff < 0` */
function yourTurnBlock(id: string, fields: Map<string, string[]>): YourTurnBlock {
  if (!ID.test(id)) fail("':::yourturn <id>' needs an id (lowercase letters, digits, '-')");
  checkKnown(fields, ["task", "edit", "until", "hint", "explain"]);
  const edit = one(fields, "edit", "prompt");
  if (!isOneOf(INPUTS, edit)) fail(`'edit:' is one of ${INPUTS.join(", ")}`);
  const until = /^(\S+)\s*(<=|>=|==|<|>)\s*(\S+)$/.exec(one(fields, "until").trim());
  if (!until) fail("'until:' reads '<metric> <comparator> <number>', e.g. 'logit-diff < 0'");
  if (!isOneOf(METRICS, until![1])) fail(`'until:' metric is one of ${Object.keys(METRICS).join(", ")}`);
  if (!isOneOf(COMPARATORS, until![2])) fail(`'until:' comparator is one of ${COMPARATORS.join(" ")}`);
  return { kind: "yourturn", id, task: one(fields, "task"), edit: edit as InputName, metric: until![1] as MetricName,
    comparator: until![2] as Comparator, threshold: finiteNumber(until![3], "the 'until:' threshold"),
    hints: fields.get("hint") ?? [], explain: one(fields, "explain", "") };
}
