import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root. */
export const ROOT = join(__dirname, '..', '..');

/** The user documentation: the README, every page under docs/, and patches/README.md. */
export function documentationFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name));
  return ['README.md', ...docs, join('patches', 'README.md')];
}

export function readDoc(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

/** One fenced code block: its info string (`bash`, `json`, …), its text and the line of its first text line. */
export interface FencedBlock {
  info: string;
  text: string;
  line: number;
}

/**
 * The fenced code blocks of a Markdown text and the text outside them (lines inside blocks blanked, so line
 * numbers stay). A fence closes only with the same character repeated at least as often, as CommonMark says,
 * so a ```` block may show a ``` block.
 */
export function splitFences(markdown: string): { blocks: FencedBlock[]; prose: string } {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  const prose: string[] = [];
  let open: { fence: string; info: string; start: number; body: string[] } | undefined;
  lines.forEach((line, index) => {
    const fence = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/.exec(line);
    if (!open && fence) {
      open = { fence: fence[1] ?? '```', info: fence[2] ?? '', start: index + 2, body: [] };
      prose.push('');
    } else if (open && fence && (fence[1] ?? '').startsWith(open.fence) && (fence[2] ?? '') === '') {
      blocks.push({ info: open.info, text: open.body.join('\n'), line: open.start });
      open = undefined;
      prose.push('');
    } else if (open) {
      open.body.push(line);
      prose.push('');
    } else {
      prose.push(line);
    }
  });
  return { blocks, prose: prose.join('\n') };
}

/** GitHub's anchor for a heading: lower case, punctuation dropped (but `-` and `_`), spaces to hyphens. */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown text's headings get on GitHub (a repeated heading gets `-1`, `-2`, …). */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of splitFences(markdown).prose.split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) {
      continue;
    }
    const slug = githubSlug(heading[1] ?? '');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The targets of the Markdown links (`[text](target)`, `![alt](target)`) outside code, with their lines. */
export function linkTargets(markdown: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  splitFences(markdown)
    .prose.split('\n')
    .forEach((line, index) => {
      const withoutCode = line.replace(/`[^`]*`/g, '');
      for (const match of withoutCode.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        links.push({ target: match[1] ?? '', line: index + 1 });
      }
    });
  return links;
}

/** A `curl` example of the documentation, as the convention in docs/development.md writes it. */
export interface CurlExample {
  file: string;
  line: number;
  /** curl's arguments, as a shell would pass them (without `curl` itself and without a `| …` after it). */
  args: string[];
  expectedStatus: number;
  /** Environment the service needs for the example (`# needs: NAME=value …` before it in its block). */
  env: Record<string, string>;
}

/**
 * Splits one shell command starting at `start` into words, as bash would: single and double quotes,
 * backslash escapes and line continuations. Stops at the end of the command (an unquoted newline); words
 * after an unquoted `|` (a pipe into grep, say) or `#` are not returned. Returns the index after the command.
 */
export function shellWords(text: string, start: number): { words: string[]; end: number } {
  const words: string[] = [];
  let word: string | undefined;
  let piped = false;
  let i = start;
  const push = (chars: string): void => {
    if (!piped) {
      word = (word ?? '') + chars;
    }
  };
  const endWord = (): void => {
    if (word !== undefined) {
      words.push(word);
      word = undefined;
    }
  };
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '\\') {
      const next = text[i + 1] ?? '';
      if (next !== '\n') {
        push(next);
      }
      i += 2;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) {
        throw new Error(`unterminated ' at ${i}`);
      }
      push(text.slice(i + 1, close));
      i = close + 1;
    } else if (c === '"') {
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && '"\\$`\n'.includes(text[i + 1] ?? '')) {
          value += text[i + 1] === '\n' ? '' : (text[i + 1] ?? '');
          i += 2;
        } else {
          value += text[i] ?? '';
          i += 1;
        }
      }
      if (i >= text.length) {
        throw new Error(`unterminated " at ${start}`);
      }
      push(value);
      i += 1;
    } else if (c === '\n') {
      i += 1;
      break;
    } else if (c === ' ' || c === '\t') {
      endWord();
      i += 1;
    } else if (c === '|' || (c === '#' && word === undefined)) {
      endWord();
      piped = true;
      i += 1;
    } else {
      push(c);
      i += 1;
    }
  }
  endWord();
  return { words, end: i };
}

const STATUS_LINE = /^#\s*→\s*(\d{3})\b/;

/**
 * Every `curl` command in the fenced `bash` blocks of `file`, with the status the line after it states.
 * A curl without that line is returned in `problems`, so a test can fail on it rather than skip it.
 */
export function curlExamples(file: string): { examples: CurlExample[]; problems: string[] } {
  const examples: CurlExample[] = [];
  const problems: string[] = [];
  for (const block of splitFences(readDoc(file)).blocks) {
    if (!['bash', 'sh', 'shell'].includes(block.info)) {
      continue;
    }
    const text = block.text;
    let env: Record<string, string> = {};
    let offset = 0;
    while (offset < text.length) {
      const lineEnd = text.indexOf('\n', offset) < 0 ? text.length : text.indexOf('\n', offset);
      const line = text.slice(offset, lineEnd);
      const lineNumber = block.line + text.slice(0, offset).split('\n').length - 1;
      const needs = /^#\s*needs:\s*(.*)$/.exec(line.trim());
      if (needs) {
        env = Object.fromEntries(
          (needs[1] ?? '')
            .split(/\s+/)
            .filter((pair) => pair.length > 0)
            .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
        );
      }
      if (!/^\s*curl\s/.test(line)) {
        offset = lineEnd + 1;
        continue;
      }
      const { words, end } = shellWords(text, offset);
      const statusLine = text.slice(end, text.indexOf('\n', end) < 0 ? text.length : text.indexOf('\n', end));
      const status = STATUS_LINE.exec(statusLine.trim());
      if (status) {
        examples.push({
          file,
          line: lineNumber,
          args: words.slice(1),
          expectedStatus: Number(status[1]),
          env,
        });
      } else {
        problems.push(`${file}:${lineNumber}: a curl example without a "# → <status>" line after it`);
      }
      offset = end;
    }
  }
  return { examples, problems };
}
