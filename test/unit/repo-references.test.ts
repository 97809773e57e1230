/**
 * The repository stands alone: every Markdown link to a repository file
 * lands (file and heading), every `*.md` named in code, comments or prose is
 * a Markdown file of the repository, every `*.ts` named is a file of it, and
 * a document's contents line names each of its sections.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { findBrokenReferences, findMissingTsMentions, headingAnchors, headingsMissingFromContents, listRepositoryFiles } from '../helpers/repo-references';

const ROOT = resolve(__dirname, '../..');

/** A Markdown file name built at run time, so this file does not mention it. */
const md = (name: string) => `${name}.${'md'}`;
/** The same for a TypeScript file name. */
const ts = (name: string) => `${name}.${'ts'}`;

describe('references to Markdown files', () => {
  it('land everywhere in the repository', () => {
    const broken = findBrokenReferences(ROOT, listRepositoryFiles(ROOT));
    expect(broken.map((b) => `${b.file}:${b.line}: ${b.target} (${b.why})`)).toEqual([]);
  });

  describe('the checker', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'wingman-refs-'));
      mkdirSync(join(dir, 'docs'));
      mkdirSync(join(dir, 'packages/a/src'), { recursive: true });
      writeFileSync(join(dir, 'docs', md('guide')), '# Guide\n\n## Two words\n\n## `X-Header` field\n\n## Two words\n');
      writeFileSync(join(dir, 'packages/a', md('README')), '# a\n');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const check = (file: string, text: string) => {
      writeFileSync(join(dir, file), text);
      return findBrokenReferences(dir, [file]).map((b) => [b.line, b.target, b.why]);
    };

    it('accepts links to files and headings that exist, and URLs', () => {
      const text = [
        `[g](docs/${md('guide')}) [h](docs/${md('guide')}#two-words) [h2](docs/${md('guide')}#two-words-1)`,
        `[c](docs/${md('guide')}#x-header-field) [d](docs) [w](https://example.com/${md('Nowhere')})`,
      ].join('\n');
      expect(check(md('index'), text)).toEqual([]);
    });

    it('reports a link to a missing file, a missing heading and a path outside the repository', () => {
      const text = `[a](docs/${md('gone')})\n\n[b](docs/${md('guide')}#no-such)\n\n[c](../${md('elsewhere')})\n`;
      expect(check(md('index'), text)).toEqual([
        [1, `docs/${md('gone')}`, 'no such file in the repository'],
        [3, `docs/${md('guide')}#no-such`, 'no heading with the anchor #no-such'],
        [5, `../${md('elsewhere')}`, 'points outside the repository'],
        // The same names as plain mentions, too.
        [1, `docs/${md('gone')}`, 'no such Markdown file in the repository'],
        [5, `../${md('elsewhere')}`, 'no such Markdown file in the repository'],
      ]);
    });

    it('resolves a mention in code from its directory, the repository root or its package, and reports any other', () => {
      const text = `// see docs/${md('guide')} and ${md('README')}\n/* per ${md('NOTES')} "Scale" */\nconst glob = '*.md';\n`;
      expect(check(`packages/a/src/${ts('x')}`, text)).toEqual([[2, md('NOTES'), 'no such Markdown file in the repository']]);
    });
  });

  it('names headings as GitHub anchors them', () => {
    expect([...headingAnchors('# The `wingman` CLI (agent)\n## Limits\n## Limits\n## P2P, STUN and TURN\n')]).toEqual([
      'the-wingman-cli-agent',
      'limits',
      'limits-1',
      'p2p-stun-and-turn',
    ]);
  });

  it('every .ts file named in code, comments and docs is one of the repository (build output aside)', () => {
    const files = listRepositoryFiles(ROOT).filter((f) => !f.endsWith('package.json'));
    const missing = findMissingTsMentions(files, (f) => readFileSync(join(ROOT, f), 'utf8'));
    expect(missing.map((b) => `${b.file}:${b.line}: ${b.target}`)).toEqual([]);
    // The checker itself: a loose name lands, a gone one does not.
    const probe = findMissingTsMentions([`a/src/${ts('peer-host')}`, 'notes.txt'], () => `see ${ts('peer-host')}, ${ts('src/peer-host')} and ${ts('gone')}`);
    expect(probe.map((b) => b.target)).toEqual([ts('gone'), ts('gone')]);
  });

  it("a document's contents line links every one of its sections", () => {
    for (const file of listRepositoryFiles(ROOT).filter((f) => f.endsWith('.md'))) {
      expect({ file, missing: headingsMissingFromContents(readFileSync(join(ROOT, file), 'utf8')) }).toEqual({ file, missing: [] });
    }
    expect(headingsMissingFromContents('# T\n\nContents: [A](#a) ·\n[B c](#b-c)\n\n## A\n\n## B c\n\n## D\n')).toEqual(['d']);
  });
});
