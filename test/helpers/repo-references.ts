/**
 * References from the repository's files to its Markdown files, and whether
 * each one lands: a Markdown link (`[text](path#anchor)`) must name a file
 * that exists and, for a `.md` target with an anchor, one of its headings;
 * a `*.md` mention in any text (code, comments, prose) must name a Markdown
 * file of the repository. So the repository stands alone: nothing points at
 * a note that is not in it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import MarkdownIt from 'markdown-it';

export interface BrokenReference {
  /** Repository-relative path of the file holding the reference. */
  file: string;
  /** 1-based line of the reference (of its paragraph, for Markdown links). */
  line: number;
  target: string;
  why: string;
}

/** Files too large or generated to hold a hand-written reference. */
const SKIPPED_FILES = new Set(['package-lock.json']);

/** A URL, whose `.md` paths belong to another site. */
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)'"`<>\]]+/gi;

/** A path ending in `.md`, not part of a longer name (`*.md` globs have no name before the dot). */
const MD_MENTION_PATTERN = /(?<![\w./-])((?:\.{1,2}\/)*\w[\w./-]*\.md)(?![\w-])/g;

/** A path ending in `.ts`, not part of a longer name (`.tsx`, `.ts.map`) nor a glob (`*.ts`). */
const TS_MENTION_PATTERN = /(?<![\w./*-])((?:\.{1,2}\/)*\w[\w./-]*\.ts)(?![\w.-])/g;

const markdown = new MarkdownIt({ html: true });
type Token = ReturnType<MarkdownIt['parse']>[number];

/** The repository's text files: tracked and new ones, not the ignored (dist/, node_modules/). */
export function listRepositoryFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((file) => file !== '' && !SKIPPED_FILES.has(posix.basename(file)) && existsSync(join(root, file)))
    .filter((file) => !readFileSync(join(root, file)).includes(0));
}

/**
 * The anchor GitHub gives a heading: its text lower-cased, punctuation other
 * than `-` and `_` dropped, spaces as `-`; a repeated heading gets `-1`, `-2`…
 */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const tokens = markdown.parse(text, {});
  tokens.forEach((token, i) => {
    if (token.type !== 'heading_open') return;
    const plain = (tokens[i + 1]?.children ?? [])
      .filter((child) => child.type === 'text' || child.type === 'code_inline')
      .map((child) => child.content)
      .join('');
    const base = plain
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  });
  return anchors;
}

/** Every link and image target in a Markdown text, with its line. */
function markdownTargets(text: string): { target: string; line: number }[] {
  const found: { target: string; line: number }[] = [];
  const visit = (tokens: Token[], line: number) => {
    for (const token of tokens) {
      const at = token.map ? token.map[0] + 1 : line;
      const target = token.type === 'link_open' ? token.attrGet('href') : token.type === 'image' ? token.attrGet('src') : null;
      if (target !== null) found.push({ target, line: at });
      if (token.children) visit(token.children, at);
    }
  };
  visit(markdown.parse(text, {}), 1);
  return found;
}

/** The package directory (`packages/<name>`) holding a file, if any. */
function packageRoot(file: string): string | undefined {
  const match = /^packages\/[^/]+/.exec(file);
  return match?.[0];
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** Broken links and mentions in the given repository-relative files. */
export function findBrokenReferences(root: string, files: readonly string[]): BrokenReference[] {
  const anchorsByFile = new Map<string, Set<string>>();
  const anchorsOf = (absolute: string) => {
    let anchors = anchorsByFile.get(absolute);
    if (!anchors) {
      anchors = headingAnchors(readFileSync(absolute, 'utf8'));
      anchorsByFile.set(absolute, anchors);
    }
    return anchors;
  };
  const broken: BrokenReference[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    if (file.endsWith('.md')) {
      for (const { target, line } of markdownTargets(text)) {
        const why = linkProblem(root, file, target, anchorsOf);
        if (why) broken.push({ file, line, target, why });
      }
    }
    const withoutUrls = text.replace(URL_PATTERN, (url) => ' '.repeat(url.length));
    for (const match of withoutUrls.matchAll(MD_MENTION_PATTERN)) {
      const mention = match[1]!;
      const bases = [dirname(file), '.', packageRoot(file)].filter((base): base is string => base !== undefined);
      const lands = bases.some((base) => isFile(resolve(root, base, mention)));
      if (!lands) broken.push({ file, line: lineOf(text, match.index!), target: mention, why: 'no such Markdown file in the repository' });
    }
  }
  return broken;
}

/**
 * `.ts` files named in the given files (comments, docs, tests) that no
 * repository file is: a mention lands when a file's path is it or ends with
 * `/<mention>` (comments name files loosely: `peer-host.ts`, `sw/router.ts`),
 * leading `./` and `../` aside.
 */
export function findMissingTsMentions(files: readonly string[], readText: (file: string) => string): BrokenReference[] {
  const tsFiles = files.filter((f) => f.endsWith('.ts'));
  const lands = (mention: string) => {
    const bare = mention.replace(/^(?:\.{1,2}\/)+/, '');
    return tsFiles.some((f) => f === bare || f.endsWith(`/${bare}`));
  };
  const broken: BrokenReference[] = [];
  for (const file of files) {
    const text = readText(file).replace(URL_PATTERN, (url) => ' '.repeat(url.length));
    for (const match of text.matchAll(TS_MENTION_PATTERN)) {
      const mention = match[1]!;
      if (!lands(mention)) broken.push({ file, line: lineOf(text, match.index!), target: mention, why: 'no such .ts file in the repository' });
    }
  }
  return broken;
}

/**
 * The level-2 headings of a Markdown text that its contents line (a paragraph
 * starting `Contents:`) does not link to; empty without a contents line.
 */
export function headingsMissingFromContents(text: string): string[] {
  const contents = /^Contents:[^\n]*(?:\n(?!\n)[^\n]*)*/m.exec(text)?.[0];
  if (contents === undefined) return [];
  const linked = new Set([...contents.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!));
  const h2 = text.split('\n').filter((line) => line.startsWith('## '));
  const anchors = [...headingAnchors(h2.join('\n'))];
  return anchors.filter((a) => !linked.has(a));
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** Why a Markdown link from `file` does not land, or undefined when it does. */
function linkProblem(root: string, file: string, target: string, anchorsOf: (absolute: string) => Set<string>): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return undefined;
  const [pathPart = '', anchor] = target.split('#', 2);
  const absolute = pathPart === '' ? join(root, file) : resolve(root, dirname(file), decodeURIComponent(pathPart));
  if (relative(root, absolute).startsWith('..')) return 'points outside the repository';
  if (!existsSync(absolute)) return 'no such file in the repository';
  if (anchor && absolute.endsWith('.md') && !anchorsOf(absolute).has(decodeURIComponent(anchor).toLowerCase())) {
    return `no heading with the anchor #${anchor}`;
  }
  return undefined;
}
